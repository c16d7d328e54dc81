"""Sharing: the caller's own invitations (accept, decline), and a project's sharing page for those who may invite to it
(members and their roles, invitations sent). Every change goes through projects.sharing, whose rules are the API's:
nobody grants more than they hold."""

import datetime
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.selectors import user_find
from common.password_forms import throttled_password_form
from common.throttles import LOOKUP_THROTTLES
from projects import sharing
from projects.access import MEMBERSHIP_ACCESS
from projects.models import InvitationKind
from projects.selectors import (
    invitation_get,
    invitation_list,
    membership_get,
    membership_list,
    project_invitation_get,
    project_invitation_list,
)
from ui.forms import InviteForm, MembershipForm
from ui.forms import refuse as refuse_on_form
from ui.views import _project, found, signed_in_page, signed_in_post

# ---------------------------------------------------------------------------------------------------------------------
# The caller's invitations


def _invitations_page(request, *, error: str = "", status: int = 200):
    context = {"invitations": invitation_list(user=request.user), "error": error, "transfer": InvitationKind.TRANSFER}
    return render(request, "ui/invitations.html", context, status=status)


@signed_in_page
def invitations(request):
    """The invitations the caller may still accept, each with what it offers, who sent it and until when."""
    return _invitations_page(request)


def _invitation(request, pk: int):
    return found(invitation_get(user=request.user, pk=pk), "invitation")


@signed_in_post
def invitation_accept(request, pk: int):
    invitation = _invitation(request, pk)
    try:
        project = sharing.invitation_accept(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        return _invitations_page(request, error=" ".join(exc.messages), status=400)
    messages.success(request, f"You accepted the invitation to {project.name}.")
    return redirect("ui:project", pk=project.pk)


@signed_in_post
def invitation_decline(request, pk: int):
    invitation = _invitation(request, pk)
    try:
        sharing.invitation_decline(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        return _invitations_page(request, error=" ".join(exc.messages), status=400)
    messages.info(request, f"You declined the invitation to {invitation.project.name}.")
    return redirect("ui:invitations")


# ---------------------------------------------------------------------------------------------------------------------
# A project's sharing page


def _shared_project(request, pk: int):
    """The project, if the caller may share it (MEMBERSHIP_ACCESS "create": who may invite); else 404, as for a
    project they may not see."""
    return found(_project(request, pk), "project", access=MEMBERSHIP_ACCESS, action="create")


def _sharing_page(request, project, *, invite_form=None, error: str = "", status: int = 200):
    members = [
        (
            membership,
            MembershipForm(
                initial={"role": membership.role, "expires_at": membership.expires_at},
                prefix=f"member-{membership.user_id}",
            ),
        )
        for membership in membership_list(project_id=project.pk)
    ]
    context = {
        "project": project,
        "members": members,
        "invitations": project_invitation_list(project_id=project.pk),
        "invite_form": invite_form or InviteForm(),
        "error": error,
        "transfer": InvitationKind.TRANSFER,
    }
    return render(request, "ui/sharing.html", context, status=status)


def _refused(request, project, exc: ValidationError | PermissionDenied):
    """The sharing page again, with the service's refusal above it: 403 for a role that does not allow the change,
    400 for terms that cannot be granted."""
    status = 403 if isinstance(exc, PermissionDenied) else 400
    message = str(exc) if isinstance(exc, PermissionDenied) else " ".join(exc.messages)
    return _sharing_page(request, project, error=message, status=status)


def _change(request, project, change, done: str):
    """Run `change()`, a sharing service's call: back to the sharing page saying `done`, or with the refusal."""
    try:
        change()
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, project, exc)
    messages.success(request, done)
    return redirect("ui:sharing", pk=project.pk)


@signed_in_page
def project_sharing(request, pk: int):
    """A project's owner and members with their roles and terms, the invitations waiting for an answer, and the form
    that invites someone."""
    return _sharing_page(request, _shared_project(request, pk))


@signed_in_post
def member_invite(request, pk: int):
    """Invite someone by username or e-mail; naming users is throttled, as in the API, so that nobody learns at speed
    which addresses have an account."""
    project = _shared_project(request, pk)
    return throttled_password_form(
        request,
        lambda: _invite(request, project),
        throttles=LOOKUP_THROTTLES,
        refused_template="ui/throttled.html",
        context={"back": reverse("ui:sharing", args=[project.pk])},
    )


def _invite(request, project):
    form = InviteForm(request.POST)
    if form.is_valid():
        user = user_find(name=form.cleaned_data["user"])
        if user is None:
            form.add_error("user", f"No active user matches {form.cleaned_data['user']!r}.")
        else:
            try:
                sharing.membership_invite(
                    project=project,
                    actor=request.user,
                    user=user,
                    role=form.cleaned_data["role"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except PermissionDenied as exc:
                return _refused(request, project, exc)
            except ValidationError as exc:
                refuse_on_form(form, exc)
            else:
                messages.success(request, f"{user.username} is invited as {form.cleaned_data['role']}.")
                return redirect("ui:sharing", pk=project.pk)
    return _sharing_page(request, project, invite_form=form, status=400)


def _membership(project, user_id: int):
    return found(membership_get(project_id=project.pk, user_id=user_id), "member")


@signed_in_post
def member_change(request, pk: int, user_id: int):
    """Change a member's role or term: only what the form changes is sent to the service."""
    project = _shared_project(request, pk)
    membership = _membership(project, user_id)
    form = MembershipForm(request.POST, prefix=f"member-{user_id}")
    if not form.is_valid():
        return _sharing_page(request, project, error=f"{membership.user.username}: {_form_errors(form)}", status=400)
    changed = {
        field: value for field, value in form.cleaned_data.items() if not _same(value, getattr(membership, field))
    }
    if not changed:
        return redirect("ui:sharing", pk=project.pk)
    return _change(
        request,
        project,
        partial(sharing.membership_change, membership=membership, actor=request.user, **changed),
        f"{membership.user.username}'s membership is changed.",
    )


def _same(shown, stored) -> bool:
    """Whether a value sent back by the form is the one stored: an end is shown to the minute, so an end stored with
    seconds and sent back as it was shown is unchanged."""
    if isinstance(stored, datetime.datetime) and isinstance(shown, datetime.datetime):
        return shown == stored.replace(second=0, microsecond=0)
    return shown == stored


def _form_errors(form) -> str:
    labels = {name: field.label or name for name, field in form.fields.items()}
    return " ".join(f"{labels.get(name, name)}: {' '.join(errors)}" for name, errors in form.errors.items())


@signed_in_post
def member_remove(request, pk: int, user_id: int):
    project = _shared_project(request, pk)
    membership = _membership(project, user_id)
    return _change(
        request,
        project,
        partial(sharing.membership_remove, membership=membership, actor=request.user),
        f"{membership.user.username} is no longer a member.",
    )


@signed_in_post
def project_invitation_cancel(request, pk: int, invitation_id: int):
    project = _shared_project(request, pk)
    invitation = found(project_invitation_get(project_id=project.pk, pk=invitation_id), "invitation")
    return _change(
        request,
        project,
        partial(sharing.invitation_cancel, invitation=invitation, actor=request.user),
        f"The invitation to {invitation.invitee.username} is cancelled.",
    )
