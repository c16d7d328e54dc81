import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import (
    Case,
    CharField,
    F,
    Q,
    Value,
    When,
)
from django.utils.functional import cached_property

from common.db import FieldConstraintErrorsMixin, KeyValueTag, TrimmedNameMixin
from common.sql import InSubquery, RowsOf
from common.text import multi_line, single_line
from experiments.display import DisplayIterable
from experiments.validators import (
    TAGS_MAX_COUNT,
    validate_parameters,
    validate_tags,
)
from projects.models import (
    LifecycleStage,
    ProjectRole,
    member_role_expression,
    project_ids_of,
    role_expression,
)
from tracking.models import LatestMetric


class StrictJSONField(models.JSONField):
    """A JSONField whose validators also see `{}`, `[]` and None, which Django counts as blank and does not validate.

    Without it, `[]` would pass for an object and `{}` for a list, whenever the field allows the blank value.
    """

    empty_values = [""]


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


def new_run_uuid() -> str:
    """A run id for tracking clients: 32 lowercase hex digits, random, so that ids cannot be enumerated."""
    return uuid.uuid4().hex


# What the API, the admin and the tracking API may change on an experiment (the services set nothing else).
EDITABLE_FIELDS = ("name", "description", "status", "parameters", "tags", "project", "started_at", "finished_at")

FINAL_STATUSES = frozenset({ExperimentStatus.COMPLETED, ExperimentStatus.FAILED, ExperimentStatus.CANCELLED})

# A project's owner acts as maintainer on the experiments in it (experiments.access): they change and delete others'
# experiments there, and only an experiment's owner moves it elsewhere.
PROJECT_OWNER_ROLE = ProjectRole.MAINTAINER


def visibility(user_id, *, now=None) -> tuple[Q, Q]:
    """Who sees an experiment, in two parts: its owner, and whoever may see its project (those who own it and its live
    members at `now`). Experiment.objects.where_visible_to() asks for either part; the plain list's count reads each
    part through its own index (experiments.statements)."""
    return Q(owner_id=user_id), Q(InSubquery(F("project_id"), project_ids_of(user_id, now=now)))


class ExperimentQuerySet(models.QuerySet):
    """Experiment queries; who may see which experiments is `visibility()`, which `where_visible_to` applies."""

    def with_access(self, user: AbstractBaseUser | AnonymousUser) -> "ExperimentQuerySet":
        """Annotate each experiment with `access_role`: `owner` for its owner, else the caller's role in its project,
        where the project's owner counts as maintainer (experiments.access says what each role may do).

        An experiment outside any project has no project role, so it stays private to its owner.
        """
        if not user.is_authenticated:
            return self.annotate(access_role=Value(None, output_field=CharField()))
        return self._with_role(user.pk, role_expression(user, "project", owner_role=PROJECT_OWNER_ROLE))

    def with_member_access(self, user_id, *, now=None) -> "ExperimentQuerySet":
        """with_access() for a user who is not a superuser, by id; `user_id` and `now` (default: the current time) may
        be values or expressions (see common.prepared)."""
        project_role = member_role_expression(user_id, "project", owner_role=PROJECT_OWNER_ROLE, now=now)
        return self._with_role(user_id, project_role)

    def _with_role(self, user_id, project_role) -> "ExperimentQuerySet":
        return self.annotate(
            access_role=Case(
                When(owner_id=user_id, then=Value(ProjectRole.OWNER)), default=project_role, output_field=CharField()
            )
        )

    def where_visible_to(self, user: AbstractBaseUser | AnonymousUser) -> "ExperimentQuerySet":
        """The experiments `user` may see, without `access_role`: for reads that do not show the caller's role.

        The rows are chosen by `owner_id = me OR project_id IN (the projects I own or am a live member of)`, which the
        indexes that lead with owner and with project serve, rather than by a role computed for every row of the table.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.where_visible_to_member(user.pk)

    def where_visible_to_member(self, user_id, *, now=None) -> "ExperimentQuerySet":
        """where_visible_to() for a user who is not a superuser, by id; `user_id` and `now` (default: the current time)
        may be values or expressions (see common.prepared)."""
        owned, shared = visibility(user_id, now=now)
        return self.filter(owned | shared)

    def for_display(self) -> "ExperimentQuerySet":
        """With what an experiment's representation shows beside its own columns: latest metric values and key/value
        tags (the owner shows as an id, which needs no join).

        The metrics and tags come in the same query, as JSON aggregated per experiment by subqueries that PostgreSQL
        evaluates after the sort and the limit, for the rows returned only; experiments.display.show() sets them as
        the experiment's `results` and `run_tag_values`, without prefetch_related's two extra queries.
        """
        queryset = self.annotate(
            _latest_metrics_json=RowsOf(LatestMetric, ("key", "value", "is_nan"), floats=("value",)),
            _run_tags_json=RowsOf(RunTag, ("key", "value")),
        )
        queryset._iterable_class = DisplayIterable
        return queryset

    def with_tag(self, tag: str) -> "ExperimentQuerySet":
        """The experiments whose `tags` hold `tag` exactly (case-sensitive).

        JSONField's `contains` lookup does not exist on SQLite, and a substring match on the JSON text depends on how
        each database escapes strings. Comparing each array element as JSON (`tags -> i` on PostgreSQL, `JSON_EXTRACT`
        on SQLite) is exact on both, and validation bounds the array at TAGS_MAX_COUNT elements.
        """
        match = Q()
        for index in range(TAGS_MAX_COUNT):
            match |= Q(**{f"tags__{index}": tag})
        return self.filter(match)


class Experiment(TrimmedNameMixin, FieldConstraintErrorsMixin, models.Model):
    """One tracked attempt at something: what was tried (parameters), how it went (status) and what came out."""

    Status = ExperimentStatus
    constraint_fields = {
        "experiment_status_valid": "status",
        "experiment_lifecycle_stage_valid": "lifecycle_stage",
        "experiment_name_not_blank": "name",
        "experiment_finished_after_started": "finished_at",
    }
    # The status's and the lifecycle stage's choices, and a name's blank check (see FieldConstraintErrorsMixin).
    constraints_checked_by_fields = frozenset(
        {"experiment_status_valid", "experiment_lifecycle_stage_valid", "experiment_name_not_blank"}
    )

    name = models.CharField(max_length=200, validators=[single_line])
    description = models.TextField(blank=True, default="", validators=[multi_line])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    parameters = StrictJSONField(default=dict, blank=True, validators=[validate_parameters])
    tags = StrictJSONField(default=list, blank=True, validators=[validate_tags])
    # The id tracking clients (MLflow) know the experiment by, never the integer key.
    run_uuid = models.CharField(max_length=32, unique=True, default=new_run_uuid, editable=False)
    # Soft deletion, as tracking clients delete and restore runs: a deleted experiment stays readable and restorable.
    lifecycle_stage = models.CharField(
        max_length=10, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE, db_index=True
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Deleting a project keeps its experiments: they lose the link, nothing else.
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiments")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="experiment_owner_status_idx"),
            models.Index(fields=["owner", "created_at"], name="experiment_owner_created_idx"),
            # Visibility (`owner_id = me OR project_id IN (...)`) and its count; tracking clients' searches of runs
            # name projects and a lifecycle stage (SQLite would otherwise walk the two-valued lifecycle_stage index).
            models.Index(fields=["owner", "id"], name="experiment_owner_id_idx"),
            models.Index(fields=["project", "lifecycle_stage", "id"], name="experiment_project_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExperimentStatus.values),
                name="experiment_status_valid",
                violation_error_message="The status must be one of draft, running, completed, failed, cancelled.",
            ),
            models.CheckConstraint(
                condition=Q(lifecycle_stage__in=LifecycleStage.values),
                name="experiment_lifecycle_stage_valid",
                violation_error_message="The lifecycle stage must be active or deleted.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="experiment_name_not_blank",
                violation_error_message="An experiment needs a name.",
            ),
            models.CheckConstraint(
                condition=Q(started_at__isnull=True)
                | Q(finished_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="experiment_finished_after_started",
                violation_error_message="An experiment cannot finish before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # Cached properties, which for_display() sets from the row's own query; writes of metrics call forget_results().
    @cached_property
    def results(self) -> dict[str, float]:
        """The latest value of each metric (see tracking.models.LatestMetric), NaN and infinities included."""
        return {latest.key: latest.number for latest in self.latest_metrics.all()}

    @cached_property
    def run_tag_values(self) -> dict[str, str]:
        """The key/value tags (RunTag), by key."""
        return {tag.key: tag.value for tag in self.run_tags.all()}

    def require_active(self) -> None:
        """Nothing is written into an experiment that a tracking client deleted (MLflow's soft delete) until it is
        restored: the REST API, the tracking API and the admin alike."""
        if self.lifecycle_stage != LifecycleStage.ACTIVE:
            raise ValidationError(
                f"The experiment {self.pk} (run {self.run_uuid}) must be in the 'active' state; it is "
                f"{self.lifecycle_stage}. Restore it first."
            )

    def forget_results(self) -> None:
        """Drop what was read of the latest metrics, so that the next read asks the database."""
        self.__dict__.pop("results", None)
        getattr(self, "_prefetched_objects_cache", {}).pop("latest_metrics", None)


RUN_TAG_KEY_MAX_LENGTH = KeyValueTag.TAG_KEY_MAX_LENGTH
RUN_TAG_VALUE_MAX_LENGTH = 8000


class RunTag(KeyValueTag):
    """A key/value tag of an experiment, as tracking clients (MLflow) set them, their system tags included.

    Beside the experiment's `tags`, which are plain labels: a label shows to tracking clients as a tag with an empty
    value, and these show in the REST API as the experiment's `run_tags` object.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="run_tags")
    value = models.TextField(max_length=RUN_TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["experiment_id", "key"]
        constraints = [
            KeyValueTag.one_per_key(
                "experiment",
                name="experiments_runtag_one_per_key",
                message="This experiment already has a tag with this key.",
            )
        ]
