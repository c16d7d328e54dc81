"""Sharing rules and text rules: nobody grants more than they hold, leaving always works, deactivated accounts get no
mail, ordering terms are checked, and names cannot forge lines."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from accounts.tests.factories import UserFactory
from projects import services, sharing
from projects.models import Project, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory, accepted_membership
from registry.tests.support import from_now, invitation_accept_url, member_url, members_url

pytestmark = pytest.mark.django_db

R = ProjectRole


# --- Nobody grants more than they hold --------------------------------------------------------------------------------


@pytest.fixture
def temporary_maintainer():
    """A maintainer whose membership ends tomorrow, in a project owned by someone else."""
    membership = ProjectMembershipFactory(role=R.MAINTAINER, expires_at=from_now(days=1))
    return membership


@pytest.mark.parametrize("expires_at", [None, "in two days"])
def test_a_temporary_maintainer_cannot_add_a_member_who_outlasts_them(temporary_maintainer, expires_at):
    newcomer = UserFactory()
    when = from_now(days=2) if expires_at else None
    with pytest.raises(ValidationError) as caught:
        sharing.membership_invite(
            project=temporary_maintainer.project,
            actor=temporary_maintainer.user,
            user=newcomer,
            role=R.MAINTAINER,
            expires_at=when,
        )
    assert list(caught.value.message_dict) == ["expires_at"]
    assert not ProjectMembership.objects.filter(user=newcomer).exists()
    assert not ProjectInvitation.objects.filter(invitee=newcomer).exists()


def test_a_temporary_maintainer_may_add_a_member_until_their_own_end(temporary_maintainer):
    membership = accepted_membership(
        project=temporary_maintainer.project,
        actor=temporary_maintainer.user,
        role=R.EDITOR,
        expires_at=temporary_maintainer.expires_at,
    )
    assert ProjectMembership.objects.get(pk=membership.pk).expires_at == temporary_maintainer.expires_at


def test_two_temporary_maintainers_cannot_extend_each_other(client_for, temporary_maintainer):
    project = temporary_maintainer.project
    accomplice = ProjectMembershipFactory(
        project=project, role=R.MAINTAINER, expires_at=temporary_maintainer.expires_at
    )
    response = client_for(accomplice.user).patch(
        member_url(project.pk, temporary_maintainer.user_id), {"expires_at": None}
    )
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "expires_at" in response.json()
    assert ProjectMembership.objects.get(pk=temporary_maintainer.pk).expires_at == temporary_maintainer.expires_at


def test_a_temporary_maintainer_cannot_change_a_member_to_outlast_them(client_for, temporary_maintainer):
    project = temporary_maintainer.project
    viewer = ProjectMembershipFactory(project=project, role=R.VIEWER, expires_at=None)
    response = client_for(temporary_maintainer.user).patch(member_url(project.pk, viewer.user_id), {"role": R.EDITOR})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert ProjectMembership.objects.get(pk=viewer.pk).role == R.VIEWER


def test_no_member_changes_their_own_membership(client_for, temporary_maintainer):
    response = client_for(temporary_maintainer.user).patch(
        member_url(temporary_maintainer.project.pk, temporary_maintainer.user_id),
        {"expires_at": from_now(days=1, hours=1).isoformat()},
    )
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert ProjectMembership.objects.get(pk=temporary_maintainer.pk).expires_at == temporary_maintainer.expires_at


def test_the_owner_grants_without_a_time_limit(client_for):
    project = ProjectFactory()
    newcomer = UserFactory()
    response = client_for(project.owner).post(members_url(project.pk), {"user": newcomer.pk, "role": R.MAINTAINER})
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert response.json()["membership_expires_at"] is None
    accepted = client_for(newcomer).post(invitation_accept_url(response.json()["id"]))
    assert accepted.status_code == status.HTTP_200_OK
    assert ProjectMembership.objects.get(user=newcomer).expires_at is None


# --- Leaving always works; an expired member can be added again -------------------------------------------------------


def test_a_member_whose_membership_expired_can_leave(client_for):
    membership = ProjectMembershipFactory(role=R.EDITOR, expires_at=timezone.now() - timedelta(days=1))
    response = client_for(membership.user).delete(member_url(membership.project.pk, membership.user_id))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not ProjectMembership.objects.filter(pk=membership.pk).exists()


def test_an_outsider_cannot_remove_a_member_by_pretending_to_leave(client_for):
    membership = ProjectMembershipFactory(role=R.EDITOR)
    outsider = UserFactory()
    response = client_for(outsider).delete(member_url(membership.project.pk, membership.user_id))
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert ProjectMembership.objects.filter(pk=membership.pk).exists()


def test_inviting_an_expired_member_again_renews_the_membership_once_they_accept(client_for):
    membership = ProjectMembershipFactory(role=R.VIEWER, expires_at=timezone.now() - timedelta(days=1))
    project = membership.project
    response = client_for(project.owner).post(members_url(project.pk), {"user": membership.user_id, "role": R.EDITOR})
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert ProjectMembership.objects.get(pk=membership.pk).role == R.VIEWER
    accepted = client_for(membership.user).post(invitation_accept_url(response.json()["id"]))
    assert accepted.status_code == status.HTTP_200_OK
    renewed = ProjectMembership.objects.get(project=project, user=membership.user)
    assert (renewed.pk, renewed.role, renewed.expires_at) == (membership.pk, R.EDITOR, None)


def test_adding_a_live_member_again_is_still_refused(client_for):
    membership = ProjectMembershipFactory(role=R.VIEWER)
    response = client_for(membership.project.owner).post(
        members_url(membership.project.pk), {"user": membership.user_id, "role": R.EDITOR}
    )
    assert response.json() == {"user": ["This user is already a member of the project."]}
    assert ProjectMembership.objects.get(pk=membership.pk).role == R.VIEWER


# --- Deactivated accounts get no mail ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reminders_skip_deactivated_owners_and_members():
    tomorrow = timezone.localdate() + timedelta(days=1)
    active = ProjectFactory(expiration_date=tomorrow, owner=UserFactory(email="active@example.com"))
    ProjectFactory(expiration_date=tomorrow, owner=UserFactory(email="gone@example.com", is_active=False))
    ProjectMembershipFactory(project=active, user=UserFactory(email="member@example.com"), expires_at=from_now(days=1))
    ProjectMembershipFactory(
        project=active, user=UserFactory(email="left@example.com", is_active=False), expires_at=from_now(days=1)
    )
    call_command("send_expiration_reminders", stdout=StringIO())
    assert sorted(message.to[0] for message in mail.outbox) == ["active@example.com", "member@example.com"]


@pytest.mark.django_db(transaction=True)
def test_send_now_in_the_admin_skips_deactivated_owners():
    tomorrow = timezone.localdate() + timedelta(days=1)
    ProjectFactory(expiration_date=tomorrow, owner=UserFactory(is_active=False))
    summary = services.project_send_expiration_reminders(projects=Project.objects.all(), force=True)
    assert (summary.recipients, len(mail.outbox)) == (0, 0)


# --- Ordering terms ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["project-list", "experiment-list", "user-list"])
@pytest.mark.parametrize("term", ["--name", "---id", "--"])
def test_a_doubled_minus_in_ordering_is_a_400(user_client, route, term):
    response = user_client.get(reverse(route), {"ordering": term})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "ordering" in response.json()


# --- Names cannot forge lines -----------------------------------------------------------------------------------------

FORGED = "legit\nceo@example.com: payroll-export"


@pytest.mark.parametrize(
    ("route", "body", "field", "message"),
    [
        ("project-list", {"name": FORGED}, "name", "Control characters are not allowed; found U+000A."),
        ("project-list", {"name": "a\u2028b"}, "name", "Control characters are not allowed; found U+2028."),
        ("project-list", {"name": "bell\x07"}, "name", "Control characters are not allowed; found U+0007."),
        (
            "project-list",
            {"name": "ok", "description": "nul\x1b[31m"},
            "description",
            "Control characters other than newlines and tabs are not allowed; found U+001B.",
        ),
        ("experiment-list", {"name": FORGED}, "name", "Control characters are not allowed; found U+000A."),
    ],
)
def test_single_line_fields_refuse_control_characters(user_client, route, body, field, message):
    response = user_client.post(reverse(route), body)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {field: [message]}


def test_tags_refuse_control_characters(user_client):
    response = user_client.post(reverse("experiment-list"), {"name": "ok", "tags": ["fine", "a\rb"]})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"tags": {"1": ["Control characters are not allowed; found U+000D."]}}


def test_descriptions_keep_newlines_and_tabs(user_client):
    response = user_client.post(reverse("project-list"), {"name": "ok", "description": "line one\n\tline two\r\nthree"})
    assert response.status_code == status.HTTP_201_CREATED
    assert Project.objects.get().description == "line one\n\tline two\r\nthree"


@pytest.mark.django_db(transaction=True)
def test_a_stored_name_with_a_line_break_prints_on_one_line_in_mail_and_output():
    project = ProjectFactory(expiration_date=timezone.localdate() + timedelta(days=1))
    Project.objects.filter(pk=project.pk).update(name=FORGED)  # A row from before names were checked.
    out = StringIO()
    call_command("send_expiration_reminders", stdout=out)
    owner_line = f"{project.owner.email}: legit\\nceo@example.com: payroll-export"
    assert owner_line in out.getvalue().splitlines()
    assert "- legit\\nceo@example.com: payroll-export expires on" in mail.outbox[0].body
    assert not any(line.startswith("ceo@example.com") for line in mail.outbox[0].body.splitlines())
