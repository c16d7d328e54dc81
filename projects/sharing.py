"""Sharing a project: invitations to become a member or the owner, which grant nothing until accepted, and the
memberships they make; nobody grants more than they hold."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.db import set_fields, validated_save
from common.mail import mail_send_on_commit
from common.text import one_line
from projects.access import INVITATION_ACCESS, MEMBERSHIP_ACCESS, PROJECT_ACCESS
from projects.models import (
    InvitationKind,
    InvitationStatus,
    Project,
    ProjectInvitation,
    ProjectMembership,
    ProjectRole,
)

logger = logging.getLogger(__name__)

MEMBERSHIP_EDITABLE_FIELDS = ("role", "expires_at")


def _require_grantable(*, actor_role: str, role: str) -> None:
    """Nobody grants a role above their own."""
    if not MEMBERSHIP_ACCESS.reaches(actor_role, role):
        raise ValidationError({"role": [f"You cannot grant a role above your own ({actor_role})."]})


def _require_within_own_term(*, actor: User, project: Project, actor_role: str, expires_at) -> None:
    """Nobody grants more than they hold: a member whose access ends may grant access only until then."""
    if actor_role == ProjectRole.OWNER:
        return
    own_end = (
        ProjectMembership.objects.active().filter(project=project, user=actor).values_list("expires_at", flat=True)
    ).first()
    if own_end is not None and (expires_at is None or expires_at > own_end):
        raise ValidationError(
            {"expires_at": [f"Your own membership ends at {own_end.isoformat()}; this one must end no later."]}
        )


def membership_expiry_check(
    *, expires_at: datetime.datetime | None, membership: ProjectMembership | None = None
) -> None:
    """A membership's expiry, offered or changed, lies in the future: one already past would grant nothing, and an
    expired membership is renewed only by inviting its member again, who then accepts.

    The admin's forms ask this before saving, to show the refusal beside the field; the services ask it again.
    """
    if membership is not None and membership.pk is not None:
        stored = ProjectMembership.objects.filter(pk=membership.pk).values_list("expires_at", flat=True).first()
        if stored is not None and stored <= timezone.now():
            raise ValidationError({"expires_at": ["This membership has expired; invite the user again to renew it."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})


def _require_membership_terms(
    *, project: Project, inviter: User, role: str, expires_at: datetime.datetime | None
) -> None:
    """What inviting someone as a member needs: maintainer or owner, a role no higher than the inviter's, a term that
    ends no later than the inviter's own and lies in the future. Checked when inviting and again when accepting."""
    inviter_role = MEMBERSHIP_ACCESS.require(inviter, project, "create")
    _require_grantable(actor_role=inviter_role, role=role)
    _require_within_own_term(actor=inviter, project=project, actor_role=inviter_role, expires_at=expires_at)
    membership_expiry_check(expires_at=expires_at)


def _close_expired_invitations(*, project: Project, invitee: User) -> None:
    """Close the invitee's pending invitations to the project whose deadline has passed, so that a new one may
    replace them (one pending invitation per user and project)."""
    ProjectInvitation.objects.pending().filter(project=project, invitee=invitee, expires_at__lte=timezone.now()).update(
        status=InvitationStatus.EXPIRED, answered_at=timezone.now()
    )


def _invitation_create(*, project: Project, actor: User, invitee: User, **terms) -> ProjectInvitation:
    _close_expired_invitations(project=project, invitee=invitee)
    if ProjectInvitation.objects.pending().filter(project=project, invitee=invitee).exists():
        raise ValidationError({"user": [PENDING_INVITATION]})
    invitation = validated_save(
        ProjectInvitation(
            project=project,
            invitee=invitee,
            invited_by=actor,
            expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS),
            **terms,
        )
    )
    mail_send_on_commit(
        to=[invitee.email],
        subject=f"Registry: an invitation to {one_line(project.name)}",
        body=_invitation_message(invitation),
    )
    return invitation


def _invitation_message(invitation: ProjectInvitation) -> str:
    inviter = one_line(invitation.invited_by.username)
    project = one_line(invitation.project.name)
    if invitation.kind == InvitationKind.TRANSFER:
        offer = (
            f"{inviter} offers you the project {project}: you would become its owner, and its owner would stay on as a "
            "maintainer."
        )
    else:
        until = invitation.membership_expires_at
        offer = f"{inviter} invites you to the project {project} as {invitation.role}" + (
            f", until {until.isoformat()}." if until else "."
        )
    return (
        f"{offer}\n\nNothing changes until you accept. "
        f"You may accept until {invitation.expires_at.isoformat()}:\n"
        f"- GET /invitations/ lists your invitations;\n"
        f"- POST /invitations/{invitation.pk}/accept accepts this one;\n"
        f"- POST /invitations/{invitation.pk}/decline declines it.\n"
    )


def membership_invite(
    *, project: Project, actor: User, user: User, role: str, expires_at: datetime.datetime | None = None
) -> ProjectInvitation:
    """Invite `user` to `project` with `role`, until `expires_at` (None: no end), and mail them. Nothing is granted
    until they accept (invitation_accept). The actor needs maintainer or owner, and offers at most their own role, until
    at most the end of their own membership. A member whose membership has expired is renewed the same way."""
    _require_membership_terms(project=project, inviter=actor, role=role, expires_at=expires_at)
    if user.pk == project.owner_id:
        raise ValidationError({"user": ["The owner of a project cannot also be a member of it."]})
    if ProjectMembership.objects.active().filter(project=project, user=user).exists():
        raise ValidationError({"user": ["This user is already a member of the project."]})
    with transaction.atomic():
        return _invitation_create(
            project=project,
            actor=actor,
            invitee=user,
            kind=InvitationKind.MEMBERSHIP,
            role=role,
            membership_expires_at=expires_at,
        )


def membership_change(*, membership: ProjectMembership, actor: User, **fields) -> ProjectMembership:
    """Change a member's role or expiry; never one's own, never of a member above the actor, never above the actor."""
    actor_role = MEMBERSHIP_ACCESS.require(actor, membership.project, "update")
    if membership.user_id == actor.pk:
        raise PermissionDenied("You cannot change your own membership.")
    if not MEMBERSHIP_ACCESS.reaches(actor_role, membership.role):
        raise PermissionDenied("You cannot change a member whose role is above your own.")
    if "role" in fields:
        _require_grantable(actor_role=actor_role, role=fields["role"])
    if "expires_at" in fields:
        membership_expiry_check(expires_at=fields["expires_at"], membership=membership)
    expires_at = fields.get("expires_at", membership.expires_at)
    _require_within_own_term(actor=actor, project=membership.project, actor_role=actor_role, expires_at=expires_at)
    return validated_save(set_fields(membership, fields, allowed=MEMBERSHIP_EDITABLE_FIELDS))


def membership_remove(*, membership: ProjectMembership, actor: User) -> None:
    """Remove a member: the member themself (leaving, which always works, expired or not), or a maintainer or owner
    for members not above them."""
    if membership.user_id == actor.pk:
        MEMBERSHIP_ACCESS.require(actor, membership.project, "leave")
    else:
        actor_role = MEMBERSHIP_ACCESS.require(actor, membership.project, "destroy")
        if not MEMBERSHIP_ACCESS.reaches(actor_role, membership.role):
            raise PermissionDenied("You cannot remove a member whose role is above your own.")
    membership.delete()


def project_transfer_invite(*, project: Project, actor: User, new_owner: User) -> ProjectInvitation:
    """Offer the project to `new_owner` and mail them; only the owner may. Nothing changes until they accept
    (invitation_accept), and nothing about their own projects shows here: a clash of names is theirs to settle then."""
    PROJECT_ACCESS.require(actor, project, "transfer")
    if new_owner.pk == project.owner_id:
        raise ValidationError({"user": ["This user already owns the project."]})
    with transaction.atomic():
        return _invitation_create(project=project, actor=actor, invitee=new_owner, kind=InvitationKind.TRANSFER)


NO_LONGER_GRANTABLE = (
    "This invitation no longer holds: the access it offers can no longer be granted. Ask for a new one."
)
PENDING_INVITATION = "This user already has a pending invitation to this project."


def _accept_membership(invitation: ProjectInvitation, *, invitee: User, inviter: User) -> None:
    project = invitation.project
    try:
        _require_membership_terms(
            project=project, inviter=inviter, role=invitation.role, expires_at=invitation.membership_expires_at
        )
    except (PermissionDenied, ValidationError) as exc:
        raise ValidationError(NO_LONGER_GRANTABLE) from exc
    membership = ProjectMembership.objects.filter(project=project, user=invitee).first()
    if membership is not None and not ProjectMembership.objects.expired().filter(pk=membership.pk).exists():
        raise ValidationError("You are already a member of this project.")
    # An expired membership is renewed in place.
    membership = membership or ProjectMembership(project=project, user=invitee)
    membership.role, membership.expires_at, membership.added_by = (
        invitation.role,
        invitation.membership_expires_at,
        inviter,
    )
    membership.reminded_for_expiry = None
    try:
        validated_save(membership)
    except ValidationError as exc:  # Such as: the invitee has come to own the project meanwhile.
        raise ValidationError(exc.messages) from exc


def _accept_transfer(invitation: ProjectInvitation, *, invitee: User, inviter: User) -> None:
    project = invitation.project
    try:
        PROJECT_ACCESS.require(inviter, project, "transfer")
    except PermissionDenied as exc:
        raise ValidationError(NO_LONGER_GRANTABLE) from exc
    if project.owner_id == invitee.pk:
        raise ValidationError("You already own this project.")
    clash = ValidationError(f"You already own a project named {one_line(project.name)}; rename it first.")
    if Project.objects.filter(owner=invitee, name_key=project.name_key).exists():
        raise clash
    previous_owner = project.owner
    ProjectMembership.objects.filter(project=project, user=invitee).delete()
    project.owner = invitee
    try:
        validated_save(project)
    except ValidationError as exc:  # A project of that name made since the check above.
        if "name" in exc.message_dict:
            raise clash from exc
        raise
    validated_save(
        ProjectMembership(project=project, user=previous_owner, role=ProjectRole.MAINTAINER, added_by=inviter)
    )


def invitation_accept(*, invitation: ProjectInvitation, actor: User) -> Project:
    """The invitee accepts: the membership offered is granted, or the project becomes theirs (its owner staying on as a
    maintainer). The rules are checked again as they stand now: the invitation is pending and within its deadline, its
    inviter may still grant what it offers (role, term; for a transfer, they still own the project), and, for a
    transfer, the invitee owns no project of that name. A refusal changes nothing and leaves the invitation pending."""
    if invitation.invitee_id != actor.pk:
        raise PermissionDenied("This invitation is not yours.")
    with transaction.atomic():
        invitation = (
            # Locked, so that of two acceptances at once only one grants. Only this row (`of`): PostgreSQL refuses to
            # lock the nullable side of an outer join (the inviter).
            ProjectInvitation.objects.select_for_update(of=("self",))
            .select_related("project__owner", "invited_by")
            .get(pk=invitation.pk)
        )
        if invitation.status != InvitationStatus.PENDING:
            raise ValidationError(f"This invitation is {invitation.status}.")
        if invitation.is_expired:
            raise ValidationError("This invitation has expired. Ask for a new one.")
        inviter = invitation.invited_by
        if inviter is None or not inviter.is_active:
            raise ValidationError(NO_LONGER_GRANTABLE)
        if invitation.kind == InvitationKind.TRANSFER:
            _accept_transfer(invitation, invitee=actor, inviter=inviter)
        else:
            _accept_membership(invitation, invitee=actor, inviter=inviter)
        invitation.status, invitation.answered_at = InvitationStatus.ACCEPTED, timezone.now()
        invitation.save(update_fields=["status", "answered_at"])
    return invitation.project


def invitation_decline(*, invitation: ProjectInvitation, actor: User) -> ProjectInvitation:
    """The invitee declines a pending invitation (also one past its deadline); nothing is granted."""
    if invitation.invitee_id != actor.pk:
        raise PermissionDenied("This invitation is not yours.")
    return _invitation_close(invitation, InvitationStatus.DECLINED)


def invitation_cancel(*, invitation: ProjectInvitation, actor: User) -> ProjectInvitation:
    """Withdraw a pending invitation: those who may invite to the project (INVITATION_ACCESS), and for a transfer those
    who may transfer it; staff may cancel any (the admin)."""
    if not actor.is_staff:
        INVITATION_ACCESS.require(actor, invitation.project, "destroy")
        if invitation.kind == InvitationKind.TRANSFER:
            PROJECT_ACCESS.require(actor, invitation.project, "transfer")
    return _invitation_close(invitation, InvitationStatus.CANCELLED)


def _invitation_close(invitation: ProjectInvitation, status: str) -> ProjectInvitation:
    closed = (
        ProjectInvitation.objects.pending().filter(pk=invitation.pk).update(status=status, answered_at=timezone.now())
    )
    if not closed:
        raise ValidationError("This invitation is no longer pending.")
    invitation.refresh_from_db()
    return invitation
