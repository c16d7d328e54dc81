import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, CharField, Count, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from registry.db import FieldConstraintErrorsMixin, NormalizedKeysMixin, TrimmedNameMixin
from registry.text import multi_line, single_line

NAME_TAKEN = "You already have a project with this name."


class ProjectRole(models.TextChoices):
    """What a user may do in a project, each role including the ones before it."""

    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    MAINTAINER = "maintainer", "Maintainer"
    OWNER = "owner", "Owner"


ROLE_RANK = {ProjectRole.VIEWER: 1, ProjectRole.EDITOR: 2, ProjectRole.MAINTAINER: 3, ProjectRole.OWNER: 4}
MEMBER_ROLES = [(role.value, role.label) for role in ProjectRole if role != ProjectRole.OWNER]


def role_expression(user, project: str = "pk", *, owner_role: str = ProjectRole.OWNER):
    """SQL for `user`'s role in a project: `owner_role` for its owner, a live membership's role, or NULL for no access.

    `project` is the path from the queried model to the project ("pk" when querying projects, "project" when querying
    experiments). This is the one role lookup: every queryset, access table, serializer field and filter reads the
    role it computes; the access tables (projects.access, experiments.access) compare it. A superuser acts as owner
    everywhere; staff get nothing extra here (they have the admin).
    """
    if not user.is_authenticated:
        return Value(None, output_field=CharField())
    if user.is_superuser:
        return Value(ProjectRole.OWNER, output_field=CharField())
    owner_path = "owner" if project == "pk" else f"{project}__owner"
    membership = ProjectMembership.objects.active().filter(project=OuterRef(project), user=user).values("role")[:1]
    return Case(
        When(**{owner_path: user.pk}, then=Value(owner_role)),
        default=Subquery(membership),
        output_field=CharField(),
    )


class LifecycleStage(models.TextChoices):
    """Whether a project or an experiment is in use or softly deleted (kept, hidden from tracking clients' lists)."""

    ACTIVE = "active", "Active"
    DELETED = "deleted", "Deleted"


class ProjectQuerySet(models.QuerySet):
    def with_role(self, user) -> "ProjectQuerySet":
        """Annotate each project with `role`, the caller's role in it (None: no access)."""
        return self.annotate(role=role_expression(user))

    def visible_to(self, user) -> "ProjectQuerySet":
        """The projects `user` may see (owned, or a live membership of any role), each annotated with `role`."""
        return self.with_role(user).filter(role__isnull=False)

    def with_experiment_count(self) -> "ProjectQuerySet":
        return self.annotate(experiment_count=Count("experiments", distinct=True))

    def expired(self) -> "ProjectQuerySet":
        """Projects whose expiration date has passed (Project.is_expired, for many rows)."""
        return self.filter(expiration_date__lt=timezone.localdate())

    def unexpired(self) -> "ProjectQuerySet":
        """Projects that never expire or have not expired yet."""
        return self.exclude(expiration_date__lt=timezone.localdate())

    def expiring_within(self, days: int) -> "ProjectQuerySet":
        """Projects not yet expired whose expiration date is at most `days` days away (a window past the last date
        there is takes in every date)."""
        today = timezone.localdate()
        try:
            horizon = today + datetime.timedelta(days=days)
        except OverflowError:
            horizon = datetime.date.max
        return self.filter(expiration_date__gte=today, expiration_date__lte=horizon)


class Project(TrimmedNameMixin, NormalizedKeysMixin, FieldConstraintErrorsMixin, models.Model):
    """A long-lived piece of data work (a warehouse, a model, a study) that has an owner, may expire, and groups
    experiments."""

    normalized_keys = {"name_key": "name"}
    constraint_fields = {"projects_project_name_key_per_owner_unique": "name"}

    name = models.CharField(max_length=255, validators=[single_line])
    # The folded name (registry.text.fold): an owner's projects differ in it.
    name_key = models.TextField(editable=False)
    description = models.TextField(blank=True, default="", validators=[multi_line])
    expiration_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    # The expiration date the owner was last reminded of; a new date re-arms the reminder.
    reminded_for_date = models.DateField(null=True, blank=True, editable=False)
    # Soft deletion, as tracking clients delete and restore experiments; a deleted project stays readable.
    lifecycle_stage = models.CharField(max_length=10, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name_key"],
                name="projects_project_name_key_per_owner_unique",
                violation_error_message=NAME_TAKEN,
            ),
        ]
        indexes = [models.Index(fields=["expiration_date"], name="projects_expiration_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self._state.adding and self.is_expired:
            raise ValidationError({"expiration_date": "A new project cannot be already expired."})

    @property
    def is_expired(self) -> bool:
        """A project is valid through its expiration date and expired from the day after."""
        return self.expiration_date is not None and self.expiration_date < timezone.localdate()


PROJECT_TAG_KEY_MAX_LENGTH = 250
PROJECT_TAG_VALUE_MAX_LENGTH = 5000


class ProjectTag(models.Model):
    """A key/value tag of a project, as tracking clients (MLflow) set them on an experiment."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="key_tags")
    key = models.CharField(max_length=PROJECT_TAG_KEY_MAX_LENGTH)
    value = models.TextField(max_length=PROJECT_TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["project_id", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "key"],
                name="projects_projecttag_one_per_key",
                violation_error_message="This project already has a tag with this key.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class ProjectMembershipQuerySet(models.QuerySet):
    def active(self) -> "ProjectMembershipQuerySet":
        """Memberships that grant their role now: an expired membership grants nothing."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))

    def expired(self) -> "ProjectMembershipQuerySet":
        """Memberships whose expiry has passed: kept, granting nothing, until removed or added again."""
        return self.filter(expires_at__lte=timezone.now())

    def ending_within(self, days: int) -> "ProjectMembershipQuerySet":
        """Live memberships that end within `days` days from now (a window past the last date takes in every date)."""
        now = timezone.now()
        try:
            horizon = now + datetime.timedelta(days=days)
        except OverflowError:
            horizon = datetime.datetime.max.replace(tzinfo=datetime.UTC)
        return self.filter(expires_at__gt=now, expires_at__lte=horizon)


class ProjectMembership(FieldConstraintErrorsMixin, models.Model):
    """A user's role in someone else's project, possibly until a given time."""

    constraint_fields = {"projects_membership_one_per_user": "user"}

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MEMBER_ROLES)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    # The expiry the member was last reminded of; a new expiry re-arms the reminder.
    reminded_for_expiry = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"],
                name="projects_membership_one_per_user",
                violation_error_message="This user is already a member of the project.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[role for role, _ in MEMBER_ROLES]),
                name="projects_membership_role_valid",
                violation_error_message="The role must be viewer, editor or maintainer.",
            ),
        ]
        indexes = [models.Index(fields=["user", "project"], name="projects_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"

    def clean(self):
        super().clean()
        if self.project_id is not None and self.user_id is not None and self.project.owner_id == self.user_id:
            raise ValidationError({"user": "The owner of a project cannot also be a member of it."})
