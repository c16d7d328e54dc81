"""Invitations: a share or a transfer grants nothing until its invitee accepts; accepting checks the rules again."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import status
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from projects import services, sharing
from projects.models import InvitationStatus, Project, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectInvitationFactory, ProjectMembershipFactory
from registry.tests.support import (
    INVITATIONS_URL,
    bearer_client,
    errors,
    from_now,
    invitation_accept_url,
    invitation_decline_url,
    invitation_url,
    members_url,
    project_invitation_url,
    project_invitations_url,
    project_url,
    snapshot,
    transfer_url,
)

pytestmark = pytest.mark.django_db

R = ProjectRole
NO_LONGER = "This invitation no longer holds: the access it offers can no longer be granted. Ask for a new one."


@pytest.fixture
def project(user) -> Project:
    return ProjectFactory(owner=user, name="warehouse")


def _state() -> tuple:
    """Every membership, project and invitation as stored: what a refusal must leave as it was."""
    return (
        list(ProjectMembership.objects.order_by("pk").values()),
        list(Project.objects.order_by("pk").values()),
        list(ProjectInvitation.objects.order_by("pk").values()),
    )


def _grants_nothing(invitee, project: Project) -> None:
    assert not Project.objects.visible_to(invitee).filter(pk=project.pk).exists()
    assert Project.objects.with_role(invitee).get(pk=project.pk).role is None
    assert bearer_client(invitee).get(project_url(project.pk)).status_code == status.HTTP_403_FORBIDDEN


# ---------------------------------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_an_invitation_grants_nothing_until_accepted_and_then_its_role(user, project, role):
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=user, user=invitee, role=role)
    assert (invitation.status, invitation.kind, invitation.invited_by) == ("pending", "membership", user)
    _grants_nothing(invitee, project)
    assert not ProjectMembership.objects.exists()

    sharing.invitation_accept(invitation=invitation, actor=invitee)

    assert Project.objects.visible_to(invitee).get(pk=project.pk).role == role
    assert bearer_client(invitee).get(project_url(project.pk)).json()["role"] == role
    stored = ProjectInvitation.objects.get(pk=invitation.pk)
    assert stored.status == "accepted" and stored.answered_at is not None


def test_a_declined_invitation_grants_nothing_and_cannot_be_accepted_after(user, project):
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=user, user=invitee, role=R.EDITOR)
    sharing.invitation_decline(invitation=invitation, actor=invitee)
    assert ProjectInvitation.objects.get(pk=invitation.pk).status == "declined"
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == ["This invitation is declined."]
    assert _state() == before
    _grants_nothing(invitee, project)


def test_an_expired_invitation_cannot_be_accepted_but_may_be_declined(user, project, time_machine, settings):
    settings.INVITATION_DAYS = 3
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=user, user=invitee, role=R.VIEWER)
    assert invitation.expires_at - invitation.created_at == pytest.approx(timedelta(days=3), abs=timedelta(seconds=5))
    time_machine.move_to(invitation.expires_at, tick=False)
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == ["This invitation has expired. Ask for a new one."]
    assert _state() == before
    _grants_nothing(invitee, project)
    sharing.invitation_decline(invitation=invitation, actor=invitee)
    assert ProjectInvitation.objects.get(pk=invitation.pk).status == "declined"


def test_an_invitation_past_its_deadline_is_replaced_by_a_new_one(user, project, time_machine):
    invitee = UserFactory()
    first = sharing.membership_invite(project=project, actor=user, user=invitee, role=R.VIEWER)
    time_machine.move_to(first.expires_at + timedelta(seconds=1), tick=False)
    second = sharing.membership_invite(project=project, actor=user, user=invitee, role=R.EDITOR)
    assert ProjectInvitation.objects.get(pk=first.pk).status == "expired"
    sharing.invitation_accept(invitation=second, actor=invitee)
    assert ProjectMembership.objects.get(user=invitee).role == R.EDITOR


def test_accepting_is_refused_when_the_inviter_has_lost_their_role_meanwhile(project):
    inviter = ProjectMembershipFactory(project=project, role=R.MAINTAINER)
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=inviter.user, user=invitee, role=R.MAINTAINER)
    ProjectMembership.objects.filter(pk=inviter.pk).update(role=R.EDITOR)
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == [NO_LONGER]
    assert _state() == before
    _grants_nothing(invitee, project)


def test_accepting_is_refused_when_the_inviter_has_left(project):
    inviter = ProjectMembershipFactory(project=project, role=R.MAINTAINER)
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=inviter.user, user=invitee, role=R.VIEWER)
    sharing.membership_remove(membership=inviter, actor=inviter.user)
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == [NO_LONGER]
    _grants_nothing(invitee, project)


def test_accepting_is_refused_when_the_inviters_own_term_now_ends_first(project):
    inviter = ProjectMembershipFactory(project=project, role=R.MAINTAINER)
    invitee = UserFactory()
    invitation = sharing.membership_invite(project=project, actor=inviter.user, user=invitee, role=R.VIEWER)
    ProjectMembership.objects.filter(pk=inviter.pk).update(expires_at=from_now(days=1))
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == [NO_LONGER]
    _grants_nothing(invitee, project)


def test_accepting_is_refused_once_the_membership_offered_would_already_have_ended(user, project, time_machine):
    invitee = UserFactory()
    invitation = sharing.membership_invite(
        project=project, actor=user, user=invitee, role=R.VIEWER, expires_at=from_now(hours=1)
    )
    time_machine.move_to(from_now(hours=2), tick=False)
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=invitee)
    assert excinfo.value.messages == [NO_LONGER]
    assert not ProjectMembership.objects.exists()


def test_nobody_accepts_or_declines_someone_elses_invitation(user, project):
    invitee, other = UserFactory(), UserFactory()
    invitation = sharing.membership_invite(project=project, actor=user, user=invitee, role=R.VIEWER)
    before = _state()
    for service in (sharing.invitation_accept, sharing.invitation_decline):
        for actor in (other, user, UserFactory(is_superuser=True)):
            with pytest.raises(PermissionDenied):
                service(invitation=invitation, actor=actor)
    assert _state() == before


def test_a_second_pending_invitation_or_one_to_a_member_is_refused(user, project):
    invitee = UserFactory()
    sharing.membership_invite(project=project, actor=user, user=invitee, role=R.VIEWER)
    member = ProjectMembershipFactory(project=project).user
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_invite(project=project, actor=user, user=invitee, role=R.EDITOR)
    assert excinfo.value.message_dict == {"user": ["This user already has a pending invitation to this project."]}
    with pytest.raises(ValidationError) as excinfo:
        sharing.project_transfer_invite(project=project, actor=user, new_owner=invitee)
    assert excinfo.value.message_dict == {"user": ["This user already has a pending invitation to this project."]}
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_invite(project=project, actor=user, user=member, role=R.EDITOR)
    assert excinfo.value.message_dict == {"user": ["This user is already a member of the project."]}
    assert _state() == before


@pytest.mark.parametrize("when", [{"seconds": -1}, {"days": -1}], ids=["a second ago", "yesterday"])
def test_an_invitation_with_a_membership_expiry_in_the_past_is_refused(user, project, when):
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_invite(
            project=project, actor=user, user=UserFactory(), role=R.VIEWER, expires_at=from_now(**when)
        )
    assert excinfo.value.message_dict == {"expires_at": ["The expiry must be in the future."]}
    assert not ProjectInvitation.objects.exists()


@pytest.mark.parametrize("when", [{"seconds": -1}, {"days": -1}], ids=["a second ago", "yesterday"])
def test_membership_change_to_an_expiry_in_the_past_is_refused(user, project, when):
    membership = ProjectMembershipFactory(project=project)
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_change(membership=membership, actor=user, expires_at=from_now(**when))
    assert excinfo.value.message_dict == {"expires_at": ["The expiry must be in the future."]}
    assert _state() == before


def test_membership_change_does_not_renew_an_expired_membership(user, project):
    membership = ProjectMembershipFactory(project=project, expires_at=from_now(days=-1))
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_change(membership=membership, actor=user, expires_at=from_now(days=5))
    assert excinfo.value.message_dict == {
        "expires_at": ["This membership has expired; invite the user again to renew it."]
    }
    assert _state() == before


def test_a_transfer_changes_nothing_until_accepted(user, project):
    recipient = UserFactory()
    invitation = sharing.project_transfer_invite(project=project, actor=user, new_owner=recipient)
    assert (invitation.kind, invitation.role, invitation.status) == ("transfer", "", "pending")
    assert Project.objects.get(pk=project.pk).owner == user
    _grants_nothing(recipient, project)
    sharing.invitation_accept(invitation=invitation, actor=recipient)
    assert Project.objects.get(pk=project.pk).owner == recipient
    assert ProjectMembership.objects.get(project=project, user=user).role == R.MAINTAINER


def test_a_transfers_name_clash_is_settled_by_the_recipient_on_accepting(user, project):
    recipient = UserFactory()
    own = ProjectFactory(owner=recipient, name="Warehouse")
    invitation = sharing.project_transfer_invite(project=project, actor=user, new_owner=recipient)
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=recipient)
    assert excinfo.value.messages == ["You already own a project named warehouse; rename it first."]
    assert _state() == before
    services.project_update(project=own, actor=recipient, name="warehouse (mine)")
    sharing.invitation_accept(invitation=invitation, actor=recipient)
    assert Project.objects.get(pk=project.pk).owner == recipient


def test_the_sender_gets_the_same_invitation_whether_or_not_the_recipient_owns_that_name(user, project):
    clashing, free = UserFactory(), UserFactory()
    ProjectFactory(owner=clashing, name="WAREHOUSE")
    other = ProjectFactory(owner=user, name="warehouse 2")
    ProjectFactory(owner=free, name="lake")
    to_clashing = sharing.project_transfer_invite(project=project, actor=user, new_owner=clashing)
    to_free = sharing.project_transfer_invite(project=other, actor=user, new_owner=free)

    def seen(invitation):
        return (invitation.status, invitation.kind, invitation.role, invitation.invited_by_id)

    assert seen(to_clashing) == seen(to_free) == ("pending", "transfer", "", user.pk)


def test_a_transfer_is_refused_on_accepting_when_the_sender_no_longer_owns_the_project(user, project):
    first, second = UserFactory(), UserFactory()
    to_first = sharing.project_transfer_invite(project=project, actor=user, new_owner=first)
    to_second = sharing.project_transfer_invite(project=project, actor=user, new_owner=second)
    sharing.invitation_accept(invitation=to_first, actor=first)
    before = _state()
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=to_second, actor=second)
    assert excinfo.value.messages == [NO_LONGER]
    assert _state() == before
    assert Project.objects.get(pk=project.pk).owner == first


def test_a_deleted_project_takes_its_invitations_with_it(user, project):
    invitation = sharing.membership_invite(project=project, actor=user, user=UserFactory(), role=R.VIEWER)
    services.project_delete(project=project, actor=user)
    assert not ProjectInvitation.objects.filter(pk=invitation.pk).exists()


@pytest.mark.parametrize("kind", ["membership", "transfer"])
def test_cancelling_who_may(user, project, kind):
    maintainer = ProjectMembershipFactory(project=project, role=R.MAINTAINER).user
    editor = ProjectMembershipFactory(project=project, role=R.EDITOR).user
    if kind == "transfer":
        invitation = sharing.project_transfer_invite(project=project, actor=user, new_owner=UserFactory())
    else:
        invitation = sharing.membership_invite(project=project, actor=user, user=UserFactory(), role=R.VIEWER)
    refused = [editor, UserFactory(), invitation.invitee] + ([maintainer] if kind == "transfer" else [])
    for actor in refused:
        with pytest.raises(PermissionDenied):
            sharing.invitation_cancel(invitation=invitation, actor=actor)
    assert ProjectInvitation.objects.get(pk=invitation.pk).status == "pending"
    sharing.invitation_cancel(invitation=invitation, actor=maintainer if kind == "membership" else user)
    assert ProjectInvitation.objects.get(pk=invitation.pk).status == "cancelled"
    with pytest.raises(ValidationError):
        sharing.invitation_accept(invitation=invitation, actor=invitation.invitee)


def test_staff_may_cancel_any_invitation(project):
    invitation = ProjectInvitationFactory(project=project)
    sharing.invitation_cancel(invitation=invitation, actor=UserFactory(is_staff=True))
    assert ProjectInvitation.objects.get(pk=invitation.pk).status == InvitationStatus.CANCELLED


@pytest.mark.parametrize("kind", ["membership", "transfer"])
def test_the_invitee_gets_a_mail_once_the_invitation_is_stored(user, project, kind, django_capture_on_commit_callbacks):
    invitee = UserFactory(email="bob@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        if kind == "transfer":
            invitation = sharing.project_transfer_invite(project=project, actor=user, new_owner=invitee)
        else:
            invitation = sharing.membership_invite(
                project=project, actor=user, user=invitee, role=R.EDITOR, expires_at=from_now(days=30)
            )
    (message,) = mail.outbox
    assert (message.to, message.subject) == (["bob@example.com"], "Registry: an invitation to warehouse")
    if kind == "transfer":
        assert f"{user.username} offers you the project warehouse: you would become its owner" in message.body
    else:
        assert f"{user.username} invites you to the project warehouse as editor, until " in message.body
    assert "Nothing changes until you accept." in message.body
    assert f"POST /invitations/{invitation.pk}/accept" in message.body
    assert f"POST /invitations/{invitation.pk}/decline" in message.body
    assert invitation.expires_at.isoformat() in message.body


def test_a_refused_invitation_sends_no_mail(user, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        sharing.membership_invite(project=project, actor=user, user=user, role=R.VIEWER)
    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------------------------------
# Over HTTP: who may do what with an invitation, the answers written out
# ---------------------------------------------------------------------------------------------------------------------

# The project's owner (`inviter`) invites `invitee` as a viewer (a pending membership invitation); the other callers
# hold the named role in the project, or none.
CALLERS = ("anonymous", "invitee", "inviter", "stranger", "staff", "viewer", "editor", "maintainer", "superuser")

ACTIONS = {
    "mine": ("get", lambda i: INVITATIONS_URL),
    "get": ("get", lambda i: invitation_url(i.pk)),
    "accept": ("post", lambda i: invitation_accept_url(i.pk)),
    "decline": ("post", lambda i: invitation_decline_url(i.pk)),
    "project list": ("get", lambda i: project_invitations_url(i.project_id)),
    "project get": ("get", lambda i: project_invitation_url(i.project_id, i.pk)),
    "cancel": ("delete", lambda i: project_invitation_url(i.project_id, i.pk)),
    # The owner's pending transfer of the project, cancelled: those who may transfer it.
    "cancel transfer": ("delete", lambda i: project_invitation_url(i.project_id, i.transfer.pk)),
}

# fmt: off
TABLE = {
    "anonymous":  {"mine": 401, "get": 401, "accept": 401, "decline": 401, "project list": 401, "project get": 401,
                   "cancel": 401, "cancel transfer": 401},
    "invitee":    {"mine": 200, "get": 200, "accept": 200, "decline": 204, "project list": 403, "project get": 403,
                   "cancel": 403, "cancel transfer": 403},
    "inviter":    {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 200, "project get": 200,
                   "cancel": 204, "cancel transfer": 204},
    "stranger":   {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 403, "project get": 403,
                   "cancel": 403, "cancel transfer": 403},
    "staff":      {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 403, "project get": 403,
                   "cancel": 403, "cancel transfer": 403},
    "viewer":     {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 403, "project get": 403,
                   "cancel": 403, "cancel transfer": 403},
    "editor":     {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 403, "project get": 403,
                   "cancel": 403, "cancel transfer": 403},
    "maintainer": {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 200, "project get": 200,
                   "cancel": 204, "cancel transfer": 403},
    "superuser":  {"mine": 200, "get": 404, "accept": 404, "decline": 404, "project list": 200, "project get": 200,
                   "cancel": 204, "cancel transfer": 204},
}
# fmt: on

# What each caller's own list holds: only the invitee has an invitation.
MINE = {"invitee": 1}


def _cases():
    assert tuple(TABLE) == CALLERS
    for kind, row in TABLE.items():
        assert set(row) == set(ACTIONS), kind
    return [
        pytest.param(kind, name, expected, id=f"{kind}-{name}")
        for kind, row in TABLE.items()
        for name, expected in row.items()
    ]


def _caller(kind: str, invitation: ProjectInvitation):
    project = invitation.project
    if kind == "invitee":
        return invitation.invitee
    if kind == "inviter":
        return project.owner
    if kind in {"viewer", "editor", "maintainer"}:
        return ProjectMembershipFactory(project=project, role=kind).user
    if kind == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    if kind == "staff":
        return UserFactory(is_staff=True)
    return UserFactory()


@pytest.mark.parametrize(("kind", "name", "expected"), _cases())
def test_invitation_routes_answer_by_caller_and_refusals_change_nothing(kind, name, expected):
    project = ProjectFactory(name="warehouse")
    invitation = ProjectInvitationFactory(project=project, role=R.VIEWER)
    invitation.transfer = ProjectInvitationFactory(project=project, kind="transfer", role="")
    caller = _caller(kind, invitation)
    client = APIClient() if kind == "anonymous" else bearer_client(caller)
    method, url = ACTIONS[name]
    before = snapshot()
    response = getattr(client, method)(url(invitation), format="json")
    assert response.status_code == expected, response.content
    if method != "get" and 200 <= expected < 300:
        assert snapshot() != before
    else:
        assert snapshot() == before
    if name == "mine" and expected == 200:
        assert len(response.json()) == MINE.get(kind, 0)


def test_the_invitee_lists_reads_and_accepts_their_invitation(client_for):
    project = ProjectFactory(name="warehouse")
    invitee = UserFactory()
    ProjectInvitationFactory(invitee=invitee, expires_at=from_now(seconds=-1))  # Past its deadline: not listed.
    ProjectInvitationFactory(invitee=invitee, status="declined")
    invitation = ProjectInvitationFactory(project=project, invitee=invitee, role=R.EDITOR)
    client = client_for(invitee)
    listed = client.get(INVITATIONS_URL).json()
    assert [row["id"] for row in listed] == [invitation.pk]
    assert listed[0]["project"] == {"id": project.pk, "name": "warehouse"}
    assert listed[0]["invited_by"]["id"] == project.owner_id
    assert client.get(invitation_url(invitation.pk)).json()["role"] == R.EDITOR
    accepted = client.post(invitation_accept_url(invitation.pk))
    assert (accepted.json()["id"], accepted.json()["role"]) == (project.pk, R.EDITOR)
    assert client.get(INVITATIONS_URL).json() == []
    assert client.get(invitation_url(invitation.pk)).status_code == status.HTTP_404_NOT_FOUND
    assert client.post(invitation_accept_url(invitation.pk)).status_code == status.HTTP_404_NOT_FOUND


def test_accepting_an_expired_invitation_over_http_is_400(client_for):
    invitation = ProjectInvitationFactory(expires_at=from_now(seconds=-1))
    before = snapshot()
    response = client_for(invitation.invitee).post(invitation_accept_url(invitation.pk))
    assert errors(response) == {"non_field_errors": ["This invitation has expired. Ask for a new one."]}
    assert snapshot() == before


def test_a_second_invitation_over_http_is_a_clear_400(client_for):
    invitation = ProjectInvitationFactory()
    before = snapshot()
    response = client_for(invitation.project.owner).post(
        members_url(invitation.project_id), {"user": invitation.invitee_id, "role": R.EDITOR}
    )
    assert errors(response) == {"user": ["This user already has a pending invitation to this project."]}
    response = client_for(invitation.project.owner).post(
        transfer_url(invitation.project_id), {"user": invitation.invitee_id}
    )
    assert errors(response) == {"user": ["This user already has a pending invitation to this project."]}
    assert snapshot() == before


def test_the_projects_pending_invitations_are_listed_for_its_maintainers(client_for):
    project = ProjectFactory()
    pending = ProjectInvitationFactory(project=project)
    ProjectInvitationFactory(project=project, status="accepted")
    ProjectInvitationFactory()  # Another project's.
    rows = client_for(project.owner).get(project_invitations_url(project.pk)).json()
    assert [row["id"] for row in rows] == [pending.pk]


@pytest.mark.parametrize(
    "url",
    [
        lambda i: invitation_url(2**31 - 1),
        lambda i: invitation_accept_url(2**31 - 1),
        lambda i: project_invitation_url(i.project_id, 2**31 - 1),
        lambda i: project_invitation_url(i.project_id, 10**30),
        lambda i: project_invitations_url(2**31 - 1),
    ],
    ids=["invitation", "accept", "project invitation", "id too large for the database", "project"],
)
def test_a_missing_invitation_answers_404(client_for, url):
    invitation = ProjectInvitationFactory()
    client = client_for(invitation.project.owner)
    method = client.post if "accept" in url(invitation) else client.get
    assert method(url(invitation)).status_code == status.HTTP_404_NOT_FOUND


def test_an_invitation_to_a_deleted_project_answers_404_to_its_invitee(client_for):
    invitation = ProjectInvitationFactory()
    invitation.project.delete()
    assert client_for(invitation.invitee).post(invitation_accept_url(invitation.pk)).status_code == 404
    assert client_for(invitation.invitee).get(INVITATIONS_URL).json() == []


def test_invitation_list_queries_do_not_grow_with_the_rows(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    ProjectInvitationFactory(invitee=user)
    with django_assert_max_num_queries(5) as one_row:
        assert len(user_client.get(INVITATIONS_URL).json()) == 1
    ProjectInvitationFactory.create_batch(4, invitee=user)
    ProjectInvitationFactory.create_batch(2, invitee=user, invited_by=None)
    with django_assert_num_queries(len(one_row)):
        assert len(user_client.get(INVITATIONS_URL).json()) == 7
    project = ProjectFactory(owner=user)
    ProjectInvitationFactory(project=project)
    with django_assert_max_num_queries(6) as one_invitation:
        assert len(user_client.get(project_invitations_url(project.pk)).json()) == 1
    ProjectInvitationFactory.create_batch(5, project=project)
    with django_assert_num_queries(len(one_invitation)):
        assert len(user_client.get(project_invitations_url(project.pk)).json()) == 6
