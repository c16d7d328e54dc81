"""MLflow's model registry: registered models, their versions, tags and aliases, each model in one project whose roles
it takes (modelregistry.access)."""

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery

from common.db import FieldConstraintErrorsMixin, KeyValueTag
from common.sql import InSubquery
from common.text import single_line
from projects.models import Project, member_role_expression, project_ids_of, role_from_memberships

NAME_MAX_LENGTH = 256
# MLflow's rule (its names are path segments of `models:/<name>/<version>` URIs); ':' also separates a project's id
# from a name in a qualified name (`12:churn`), which therefore never clashes with a stored name.
NAME_FORBIDDEN_CHARACTERS = ("/", ":")
QUALIFIER_SEPARATOR = ":"
ALIAS_MAX_LENGTH = 255
# MLflow keeps up to 5,000 characters in a model's tag and 100,000 in a version's (a prompt's template).
MODEL_TAG_VALUE_MAX_LENGTH = 5000
VERSION_TAG_VALUE_MAX_LENGTH = 100_000
MODEL_NAME_TAKEN = "This project already has a registered model of this name."


class ModelStage(models.TextChoices):
    """MLflow's stages, for clients that still use them (aliases replace them in MLflow 2.9 and later)."""

    NONE = "None", "None"
    STAGING = "Staging", "Staging"
    PRODUCTION = "Production", "Production"
    ARCHIVED = "Archived", "Archived"


class ModelVersionStatus(models.TextChoices):
    """MLflow's registration status. Registry references its files as they are, so a version is READY at once."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION", "Pending registration"
    FAILED_REGISTRATION = "FAILED_REGISTRATION", "Failed registration"
    READY = "READY", "Ready"


def qualify(project_id: int, name: str) -> str:
    """The name that addresses one model whoever sees others of its name: `<project id>:<name>`."""
    return f"{project_id}{QUALIFIER_SEPARATOR}{name}"


class RegisteredModelQuerySet(models.QuerySet):
    def with_role(self, user) -> "RegisteredModelQuerySet":
        """Annotate each model with `role`, the caller's role in its project (None: no access)."""
        roles = Project.objects.with_role(user).filter(pk=OuterRef("project_id")).values("role")[:1]
        return self.annotate(role=Subquery(roles))

    def visible_to(self, user) -> "RegisteredModelQuerySet":
        """The models of the projects `user` may see (owned, or a live membership, which only an accepted invitation
        makes), each annotated with `role`. Chosen by `project_id IN (...)`, which the indexes serve."""
        if role_from_memberships(user):
            return self.visible_to_member(user.pk)
        return self.filter(project__in=Project.objects.where_visible_to(user)).with_role(user)

    def visible_to_member(self, user_id, *, now=None) -> "RegisteredModelQuerySet":
        """visible_to() for a user who is not a superuser, by id, with memberships live at `now` (default: the current
        time); `user_id` and `now` may be values or expressions (common.prepared.Late, modelregistry.statements)."""
        projects = project_ids_of(user_id, now=now)
        role = member_role_expression(user_id, "project", now=now)
        return self.filter(Q(InSubquery(F("project_id"), projects))).annotate(role=role)


class RegisteredModel(FieldConstraintErrorsMixin, models.Model):
    """A registered model (MLflow's RegisteredModel): a name, its numbered versions and aliases. It takes its roles
    from its project; its name is unique within the project."""

    constraint_fields = {"modelregistry_model_name_per_project": "name"}

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="registered_models")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[single_line])
    description = models.TextField(blank=True, default="")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="registered_models"
    )
    # True while the project is the creator's default one, chosen because the client named none (MLflow's
    # `register_model` creates the model before it names its source): the first version moves the model to the
    # project of its source (modelregistry.versions.model_version_create).
    placed_by_default = models.BooleanField(default=False)
    # The highest version number ever given: a deleted version's number is never given again, as in MLflow.
    last_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="modelregistry_model_name_per_project",
                violation_error_message=MODEL_NAME_TAKEN,
            )
        ]
        # Names resolve across the projects a caller sees: `name = %s AND project_id IN (...)`, and searches order by
        # name.
        indexes = [models.Index(fields=["name", "project"], name="modelreg_model_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def qualified_name(self) -> str:
        return qualify(self.project_id, self.name)


class RegisteredModelTag(KeyValueTag):
    """A key/value tag of a registered model."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="tags")
    value = models.TextField(max_length=MODEL_TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["registered_model_id", "key"]
        constraints = [
            KeyValueTag.one_per_key(
                "registered_model",
                name="modelregistry_model_tag_one_per_key",
                message="This registered model already has a tag with this key.",
            )
        ]


class ModelVersion(models.Model):
    """One version of a registered model (MLflow's ModelVersion): the files of one logged model of the same project,
    referenced where they are (`storage_location`, under `models/<model_id>/` in the artifact storage), which a run's
    deletion never touches."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True, default="")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    # The URI the client registered (`models:/m-...`, `runs:/<run_id>/model`, ...), as MLflow shows it.
    source = models.TextField()
    # The run and the logged model it came from; the ids are kept as text, as MLflow keeps them, when those go.
    run_uuid = models.CharField(max_length=32, blank=True, default="")
    source_run = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    model_id = models.CharField(max_length=34, blank=True, default="")
    logged_model = models.ForeignKey(
        "loggedmodels.LoggedModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    # Where its files are, as the client downloads them (MLflow's storage_location, `get-download-uri`).
    storage_location = models.TextField()
    run_link = models.TextField(blank=True, default="")
    status = models.CharField(max_length=32, choices=ModelVersionStatus.choices, default=ModelVersionStatus.READY)
    stage = models.CharField(max_length=16, choices=ModelStage.choices, default=ModelStage.NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_model_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "version"],
                name="modelregistry_version_unique",
                violation_error_message="This registered model already has this version.",
            )
        ]
        indexes = [
            # The latest version of each stage (get-latest-versions, a model's `latest_versions`).
            models.Index(fields=["registered_model", "stage", "version"], name="modelreg_version_stage_idx"),
            # search_model_versions("run_id = '...'").
            models.Index(fields=["run_uuid"], name="modelreg_version_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model_id} v{self.version}"


class ModelVersionTag(KeyValueTag):
    """A key/value tag of a model version."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")
    value = models.TextField(max_length=VERSION_TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["model_version_id", "key"]
        constraints = [
            KeyValueTag.one_per_key(
                "model_version",
                name="modelregistry_version_tag_one_per_key",
                message="This model version already has a tag with this key.",
            )
        ]


class RegisteredModelAlias(models.Model):
    """A name (`champion`) that points at one version of a registered model, with who set it there and when."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=ALIAS_MAX_LENGTH)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["registered_model_id", "alias"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "alias"],
                name="modelregistry_alias_unique",
                violation_error_message="This registered model already has this alias.",
            )
        ]

    def __str__(self) -> str:
        return f"@{self.alias}"


class AliasChange(models.Model):
    """One move of an alias, kept as history: from which version to which (None: set for the first time, or
    removed), by whom and when. The maintainers' mail and the admin read it."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="alias_changes")
    alias = models.CharField(max_length=ALIAS_MAX_LENGTH)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["registered_model", "-changed_at"], name="modelreg_aliaschange_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_version__isnull=False) | Q(to_version__isnull=False),
                name="modelregistry_aliaschange_moves",
                violation_error_message="An alias change goes from a version, to a version, or both.",
            )
        ]

    def __str__(self) -> str:
        return f"@{self.alias}: {self.from_version or '-'} -> {self.to_version or '-'}"
