"""Invitations to a project: to become a member, or its owner, granting nothing until their invitee accepts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models.roles import MEMBER_ROLES


class InvitationKind(models.TextChoices):
    """What accepting an invitation gives: a membership in the project, or the project itself."""

    MEMBERSHIP = "membership", "Membership"
    TRANSFER = "transfer", "Transfer"


class InvitationStatus(models.TextChoices):
    """Where an invitation stands; a pending one past its `expires_at` can no longer be accepted."""

    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    # Closed when its deadline had passed and a new invitation of the same user to the same project replaced it.
    EXPIRED = "expired", "Expired"


class ProjectInvitationQuerySet(models.QuerySet):
    def addressed_to(self, user) -> "ProjectInvitationQuerySet":
        """The invitations whose invitee is `user`: theirs alone to read, accept or decline."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(invitee_id=user.pk)

    def pending(self) -> "ProjectInvitationQuerySet":
        """Invitations still waiting for their invitee's answer, expired or not."""
        return self.filter(status=InvitationStatus.PENDING)

    def open(self) -> "ProjectInvitationQuerySet":
        """Pending invitations that have not expired: those the invitee may still accept."""
        return self.pending().filter(expires_at__gt=timezone.now())


class ProjectInvitation(models.Model):
    """An offer of a role in a project (`membership`) or of the project itself (`transfer`) to one user.

    Nothing is granted until the invitee accepts: the membership or the new owner comes into being then, so that every
    query of who may see what reads memberships and owners alone. The invitation records the terms offered (`role` and
    `membership_expires_at` for a membership) and its own deadline (`expires_at`).
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_invitations")
    kind = models.CharField(max_length=20, choices=InvitationKind.choices)
    # The role offered: a member role for a membership, empty for a transfer.
    role = models.CharField(max_length=20, choices=MEMBER_ROLES, blank=True, default="")
    membership_expires_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last moment the invitee may accept.
    expires_at = models.DateTimeField()
    # When the invitee accepted or declined, or someone cancelled.
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "invitee"],
                condition=Q(status="pending"),
                name="projects_invitation_one_pending_per_user",
                violation_error_message="This user already has a pending invitation to this project.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="membership", role__in=[role for role, _ in MEMBER_ROLES])
                    | Q(kind="transfer", role="", membership_expires_at__isnull=True)
                ),
                name="projects_invitation_role_fits_kind",
                violation_error_message="A membership invitation offers a member role; a transfer offers none.",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "status"], name="projects_invite_invitee_idx")]

    def __str__(self) -> str:
        offer = "ownership" if self.kind == InvitationKind.TRANSFER else self.role
        return f"{self.invitee} invited to {self.project} ({offer}, {self.status})"

    @property
    def is_expired(self) -> bool:
        """Past its deadline: a pending invitation can then only be declined or cancelled."""
        return self.expires_at <= timezone.now()
