import uuid

from django.conf import settings
from django.db import models

from projects.models import LifecycleStage, Project, member_role_expression, role_expression

NAME_MAX_LENGTH = 500
MODEL_TYPE_MAX_LENGTH = 500


def new_model_id() -> str:
    """A logged model's id as MLflow writes it: `m-` and 32 lowercase hex digits, random."""
    return f"m-{uuid.uuid4().hex}"


class LoggedModelStatus(models.TextChoices):
    """Where a model's upload stands, as MLflow's client reports it (MLflow's LoggedModelStatus)."""

    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Upload failed"


class LoggedModelQuerySet(models.QuerySet):
    def with_role(self, user) -> "LoggedModelQuerySet":
        """Annotate each model with `role`, the caller's role in its project (None: no access)."""
        return self.annotate(role=role_expression(user, "project"))

    def with_member_role(self, user_id, *, now=None) -> "LoggedModelQuerySet":
        """with_role() for a user who is not a superuser, by id, with memberships live at `now` (default: the current
        time); `user_id` and `now` may be values or expressions (common.prepared.Late, loggedmodels.statements)."""
        return self.annotate(role=member_role_expression(user_id, "project", now=now))

    def visible_to(self, user) -> "LoggedModelQuerySet":
        """The models of the projects `user` may see, each annotated with `role`."""
        return self.filter(project__in=Project.objects.where_visible_to(user)).with_role(user)


class LoggedModel(models.Model):
    """A model that a run logged (MLflow 3's LoggedModel): its files are under `models/<model_id>/` in the artifact
    storage, its roles are those of its project (MLflow's experiment)."""

    model_id = models.CharField(max_length=34, unique=True, default=new_model_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="logged_models")
    # The run that produced it; deleting the run keeps the model.
    source_run = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="logged_models"
    )
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logged_models")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    model_type = models.CharField(max_length=MODEL_TYPE_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=16, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING)
    status_message = models.TextField(blank=True)
    # Key/value strings, as MLflow's client sends them.
    tags = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # No index of its own: nearly every model is active, and SQLite without statistics would start a run's outputs
    # from an index that every model matches.
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LoggedModelQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["project", "name"], name="loggedmodel_project_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"

    @property
    def storage_root(self) -> str:
        """The model's namespace in the artifact storage, beside the runs' `<run_uuid>/` ones."""
        return f"models/{self.model_id}"


class LoggedModelOutput(models.Model):
    """A run's output: a model it logged, at a step (MLflow's ModelOutput)."""

    run = models.ForeignKey("experiments.Experiment", on_delete=models.CASCADE, related_name="model_outputs")
    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="outputs")
    step = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "model", "step"],
                name="loggedmodeloutput_unique",
                violation_error_message="This model is already an output of the run at this step.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_id} at step {self.step}"


class LoggedModelInput(models.Model):
    """A run's input: a model it used (MLflow's ModelInput), as the client records one whose metrics the run logs."""

    run = models.ForeignKey("experiments.Experiment", on_delete=models.CASCADE, related_name="model_inputs")
    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="inputs")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "model"],
                name="loggedmodelinput_unique",
                violation_error_message="This model is already an input of the run.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_id} into {self.run_id}"
