"""The reads of projects that other code uses (the web UI first): lists and objects with what they show."""

from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from projects.models import Project, ProjectInvitation, ProjectMembership


def project_list(*, user) -> QuerySet[Project]:
    """The projects `user` may see, newest first, each with the caller's `role`, its `experiment_count` and its
    `last_activity`: the latest change to the project or to one of its experiments."""
    experiments = Project._meta.get_field("experiments").related_model.objects
    latest_change = experiments.filter(project_id=OuterRef("pk")).order_by("-updated_at").values("updated_at")[:1]
    return (
        Project.objects.visible_to(user)
        .with_experiment_count()
        .annotate(last_activity=Greatest("updated_at", Coalesce(Subquery(latest_change), "updated_at")))
        .order_by("-created_at", "-id")
    )


def project_get(*, user, pk: int) -> Project | None:
    """Project `pk` with `user`'s `role` in it (None: no access), or None when there is no such project."""
    return Project.objects.with_role(user).filter(pk=pk).first()


def invitation_list(*, user) -> QuerySet[ProjectInvitation]:
    """`user`'s invitations that may still be accepted (pending, within their deadline), newest first, with their
    project and inviter."""
    return ProjectInvitation.objects.addressed_to(user).open().select_related("project", "invited_by")


def invitation_count(*, user) -> int:
    """How many invitations `user` may still accept (invitation_list)."""
    return ProjectInvitation.objects.addressed_to(user).open().count()


def invitation_get(*, user, pk: int) -> ProjectInvitation | None:
    """`user`'s pending invitation `pk` (one past its deadline too, which may still be declined), else None."""
    return ProjectInvitation.objects.addressed_to(user).pending().select_related("project").filter(pk=pk).first()


def membership_list(*, project_id: int) -> QuerySet[ProjectMembership]:
    """A project's members, expired ones included (they grant nothing until renewed), oldest first, with each user and
    `is_expired`."""
    now = timezone.now()
    return (
        ProjectMembership.objects.filter(project_id=project_id)
        .select_related("user")
        .annotate(is_expired=ExpressionWrapper(Q(expires_at__lte=now), output_field=BooleanField()))
        .order_by("created_at", "id")
    )


def membership_get(*, project_id: int, user_id: int) -> ProjectMembership | None:
    return membership_list(project_id=project_id).filter(user_id=user_id).first()


def project_invitation_list(*, project_id: int) -> QuerySet[ProjectInvitation]:
    """A project's pending invitations (memberships and transfers offered), newest first, with invitee and inviter."""
    return (
        ProjectInvitation.objects.pending()
        .filter(project_id=project_id)
        .select_related("project", "invitee", "invited_by")
        .order_by("-created_at", "-id")
    )


def project_invitation_get(*, project_id: int, pk: int) -> ProjectInvitation | None:
    return project_invitation_list(project_id=project_id).filter(pk=pk).first()
