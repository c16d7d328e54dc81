"""Projects, their tags and memberships; the roles (projects.models.roles) and invitations
(projects.models.invitations) live beside them and are named here too, so that `projects.models` offers them all."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.db import FieldConstraintErrorsMixin, KeyValueTag, NormalizedKeysMixin, TrimmedNameMixin
from common.sql import InSubquery, union_all
from common.text import multi_line, single_line
from projects.models.invitations import InvitationKind, InvitationStatus, ProjectInvitation, ProjectInvitationQuerySet
from projects.models.roles import MEMBER_ROLES, ROLE_RANK, LifecycleStage, ProjectRole

# What `projects.models` offers, its neighbours' models and roles included.
__all__ = [
    "MEMBER_ROLES",
    "NAME_TAKEN",
    "PROJECT_TAG_KEY_MAX_LENGTH",
    "PROJECT_TAG_VALUE_MAX_LENGTH",
    "ROLE_RANK",
    "InvitationKind",
    "InvitationStatus",
    "LifecycleStage",
    "Project",
    "ProjectInvitation",
    "ProjectInvitationQuerySet",
    "ProjectMembership",
    "ProjectMembershipQuerySet",
    "ProjectQuerySet",
    "ProjectRole",
    "ProjectTag",
    "member_role_expression",
    "project_ids_of",
    "role_expression",
    "role_from_memberships",
]

NAME_TAKEN = "You already have a project with this name."


def _member_project_ids(user_id, roles: list[str] | None = None, *, now=None) -> models.QuerySet:
    memberships = ProjectMembership.objects.active(now).filter(user_id=user_id)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.order_by().values("project_id")


def project_ids_of(user_id, *, now=None) -> models.QuerySet:
    """The ids of the projects the user `user_id` may see: those they own and their memberships live at `now`.

    One UNION ALL of two index lookups (projects by owner, memberships by user), meant as the right-hand side of
    `InSubquery`, so that the database computes the set once rather than asking about every row. `user_id` and `now`
    may be values or expressions (common.prepared.Late); `now` defaults to the current time.
    """
    owned = Project.objects.filter(owner_id=user_id).order_by().values("pk")
    return union_all(owned, _member_project_ids(user_id, now=now))


def role_expression(user, project: str = "pk", *, owner_role: str = ProjectRole.OWNER):
    """SQL for `user`'s role in a project: `owner_role` for its owner, a live membership's role, or NULL for no access.

    `project` is the path from the queried model to the project ("pk" when querying projects, "project" when querying
    experiments). This is the one role lookup: every queryset, access table, serializer field and filter reads the
    role it computes; the access tables (projects.access, experiments.access) compare it. A superuser acts as owner
    everywhere; staff get nothing extra here (they have the admin).

    The role is for the rows a query returns, not for choosing them (see `visible_to`): written as subqueries rather
    than a join, so that PostgreSQL computes it after the sort and the limit, for those rows only.
    """
    if not user.is_authenticated:
        return Value(None, output_field=CharField())
    if user.is_superuser:
        return Value(ProjectRole.OWNER, output_field=CharField())
    return member_role_expression(user.pk, project, owner_role=owner_role)


def role_from_memberships(user) -> bool:
    """Whether `user`'s role in a project comes from owning it or a live membership (member_role_expression): a
    signed-in user who is not a superuser, the caller whom the prepared statements serve."""
    return user.is_authenticated and not user.is_superuser


def member_role_expression(user_id, project: str = "pk", *, owner_role: str = ProjectRole.OWNER, now=None):
    """role_expression() for a user who is not a superuser, by id, with memberships live at `now` (default: the current
    time); `user_id` and `now` may be values or expressions (common.prepared.Late)."""
    project_id = "pk" if project == "pk" else f"{project}_id"
    membership = ProjectMembership.objects.active(now).filter(project_id=OuterRef(project_id), user_id=user_id)
    if project == "pk":
        owned = Q(owner_id=user_id)
    else:
        owned = Exists(Project.objects.filter(pk=OuterRef(project_id), owner_id=user_id))
    return Case(
        When(owned, then=Value(owner_role)),
        default=Subquery(membership.order_by().values("role")[:1]),
        output_field=CharField(),
    )


class ProjectQuerySet(models.QuerySet):
    def with_role(self, user) -> "ProjectQuerySet":
        """Annotate each project with `role`, the caller's role in it (None: no access)."""
        return self.annotate(role=role_expression(user))

    def where_role_in(self, user, roles: list[str]) -> "ProjectQuerySet":
        """The projects where `user`'s role is one of `roles`, chosen through indexes (the role is not annotated).

        `roles` comes from an access table (projects.access.projects_allowing), which decides what each role may do.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:  # The owner of every project (role_expression).
            return self if ProjectRole.OWNER in roles else self.none()
        match = Q(owner_id=user.pk) if ProjectRole.OWNER in roles else Q(pk__in=[])
        member_roles = [role for role in roles if role != ProjectRole.OWNER]
        if member_roles:
            match |= Q(InSubquery(F("pk"), _member_project_ids(user.pk, member_roles)))
        return self.filter(match)

    def where_visible_to(self, user) -> "ProjectQuerySet":
        """The projects `user` may see, without `role`: for reads that do not show the caller's role."""
        return self.where_role_in(user, ProjectRole.values)

    def visible_to(self, user) -> "ProjectQuerySet":
        """The projects `user` may see (owned, or a live membership of any role), each annotated with `role`."""
        return self.where_visible_to(user).with_role(user)

    def with_experiment_count(self) -> "ProjectQuerySet":
        """Annotate each project with `experiment_count`, counted for each row returned rather than by a join and a
        GROUP BY over every experiment of every project the query looks at."""
        experiments = (
            self.model._meta.get_field("experiments")
            .related_model.objects.filter(project_id=OuterRef("pk"))
            .order_by()
            .values("project_id")
        )
        count = Subquery(experiments.annotate(count=Count("*")).values("count"), output_field=models.BigIntegerField())
        return self.annotate(experiment_count=Coalesce(count, 0))

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
    # The folded name (common.text.fold): an owner's projects differ in it.
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


PROJECT_TAG_KEY_MAX_LENGTH = KeyValueTag.TAG_KEY_MAX_LENGTH
PROJECT_TAG_VALUE_MAX_LENGTH = 5000


class ProjectTag(KeyValueTag):
    """A key/value tag of a project, as tracking clients (MLflow) set them on an experiment."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="key_tags")
    value = models.TextField(max_length=PROJECT_TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["project_id", "key"]
        constraints = [
            KeyValueTag.one_per_key(
                "project",
                name="projects_projecttag_one_per_key",
                message="This project already has a tag with this key.",
            )
        ]


class ProjectMembershipQuerySet(models.QuerySet):
    def active(self, now=None) -> "ProjectMembershipQuerySet":
        """Memberships that grant their role now (or at `now`): an expired membership grants nothing."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now() if now is None else now))

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
