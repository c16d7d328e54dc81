"""Invitations (the caller's, to accept or decline) and a project's sharing page, through projects.sharing: the same
rules as the API, nobody granting more than they hold."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from projects.models import InvitationKind, InvitationStatus, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectInvitationFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user, name="vision")


# ---------------------------------------------------------------------------------------------------------------------
# The caller's invitations


def test_the_header_counts_the_invitations_the_caller_may_still_accept(project, other_user):
    ProjectInvitationFactory(project=project, invitee=other_user)
    ProjectInvitationFactory(project=ProjectFactory(), invitee=other_user)
    ProjectInvitationFactory(
        project=ProjectFactory(), invitee=other_user, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    ProjectInvitationFactory(project=ProjectFactory(), invitee=other_user, status=InvitationStatus.DECLINED)
    page = signed_in(other_user).get(reverse("ui:projects")).content.decode()
    assert '<span class="count" data-testid="invitation-count">2</span>' in page
    assert 'data-testid="invitation-count"' not in signed_in(project.owner).get(reverse("ui:projects")).content.decode()


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("signed in", 200)])
def test_invitations_page_by_caller(who, expected, user):
    client = signed_in(user) if who == "signed in" else Client()
    assert client.get(reverse("ui:invitations")).status_code == expected


def test_the_invitations_page_lists_the_callers_open_invitations_only(project, other_user):
    until = datetime.datetime(2099, 1, 2, 3, 4, tzinfo=datetime.UTC)
    ProjectInvitationFactory(project=project, invitee=other_user, role=ProjectRole.EDITOR, membership_expires_at=until)
    ProjectInvitationFactory(project=ProjectFactory(name="not for you"), invitee=UserFactory())
    page = signed_in(other_user).get(reverse("ui:invitations")).content.decode()
    assert '<td class="name">vision</td>' in page
    assert "<td>editor until 2099-01-02 03:04</td>" in page
    assert f"<td>{project.owner.username}</td>" in page
    assert "not for you" not in page


# The invitee answers; anyone else finds no such invitation.
ANSWER_MATRIX = [
    ("anonymous", 302, InvitationStatus.PENDING),
    ("invitee", 302, None),
    ("other user", 404, InvitationStatus.PENDING),
    ("project owner", 404, InvitationStatus.PENDING),
]


@pytest.mark.parametrize(("who", "expected", "status"), ANSWER_MATRIX)
@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_answering_an_invitation_by_caller(answer, who, expected, status, project, other_user):
    invitation = ProjectInvitationFactory(project=project, invitee=other_user, role=ProjectRole.EDITOR)
    client = {
        "anonymous": Client(),
        "invitee": signed_in(other_user),
        "other user": signed_in(UserFactory()),
        "project owner": signed_in(project.owner),
    }[who]
    response = client.post(reverse(f"ui:invitation-{answer}", args=[invitation.pk]))
    assert response.status_code == expected
    invitation.refresh_from_db()
    expected_status = status or {"accept": InvitationStatus.ACCEPTED, "decline": InvitationStatus.DECLINED}[answer]
    assert invitation.status == expected_status
    member = ProjectMembership.objects.filter(project=project, user=other_user).values_list("role", flat=True)
    assert list(member) == (["editor"] if expected_status == InvitationStatus.ACCEPTED else [])


def test_accepting_leads_to_the_project_which_the_invitee_now_sees(project, other_user):
    invitation = ProjectInvitationFactory(project=project, invitee=other_user)
    client = signed_in(other_user)
    response = client.post(reverse("ui:invitation-accept", args=[invitation.pk]))
    assert response["Location"] == f"/ui/projects/{project.pk}"
    assert client.get(response["Location"]).status_code == 200
    assert "vision" in client.get(reverse("ui:projects")).content.decode()


def test_an_expired_invitation_cannot_be_accepted_but_may_be_declined(project, other_user):
    invitation = ProjectInvitationFactory(
        project=project, invitee=other_user, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client = signed_in(other_user)
    refused = client.post(reverse("ui:invitation-accept", args=[invitation.pk]))
    assert refused.status_code == 400
    assert "This invitation has expired. Ask for a new one." in refused.content.decode()
    assert not ProjectMembership.objects.filter(project=project, user=other_user).exists()
    assert client.post(reverse("ui:invitation-decline", args=[invitation.pk])).status_code == 302


def test_an_invitation_its_sender_may_no_longer_grant_is_refused(project, other_user):
    maintainer = UserFactory()
    membership = ProjectMembershipFactory(project=project, user=maintainer, role=ProjectRole.MAINTAINER)
    invitation = ProjectInvitationFactory(
        project=project, invitee=other_user, role=ProjectRole.MAINTAINER, invited_by=maintainer
    )
    membership.role = ProjectRole.VIEWER
    membership.save()
    refused = signed_in(other_user).post(reverse("ui:invitation-accept", args=[invitation.pk]))
    assert refused.status_code == 400
    assert "This invitation no longer holds" in refused.content.decode()
    assert not ProjectMembership.objects.filter(project=project, user=other_user).exists()


# ---------------------------------------------------------------------------------------------------------------------
# A project's sharing page

# Who may open the sharing page and do each thing on it: those who may invite (maintainer and up, projects.access);
# anyone else finds no such page, and anonymous callers are sent to sign in.
SHARING_MATRIX = [
    ("anonymous", 302),
    ("other user", 404),
    (ProjectRole.VIEWER, 404),
    (ProjectRole.EDITOR, 404),
    (ProjectRole.MAINTAINER, 200),
    ("owner", 200),
]
# The same for the forms, which redirect back to the page once done.
ACTION_MATRIX = [
    ("anonymous", 302, False),
    ("other user", 404, False),
    (ProjectRole.VIEWER, 404, False),
    (ProjectRole.EDITOR, 404, False),
    (ProjectRole.MAINTAINER, 302, True),
    ("owner", 302, True),
]


def client_as(who: str, project) -> Client:
    if who == "anonymous":
        return Client()
    if who == "owner":
        return signed_in(project.owner)
    if who == "other user":
        return signed_in(UserFactory())
    member = UserFactory()
    ProjectMembershipFactory(project=project, user=member, role=who)
    return signed_in(member)


@pytest.mark.parametrize(("who", "expected"), SHARING_MATRIX)
def test_sharing_page_by_role(who, expected, project):
    response = client_as(who, project).get(reverse("ui:sharing", args=[project.pk]))
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/ui/signin?next=/ui/projects/{project.pk}/sharing"


@pytest.mark.parametrize(
    ("who", "expected"), [("owner", True), (ProjectRole.MAINTAINER, True), (ProjectRole.EDITOR, False)]
)
def test_the_project_page_links_to_sharing_for_those_who_may_share(who, expected, project):
    page = client_as(who, project).get(reverse("ui:project", args=[project.pk])).content.decode()
    assert (f'href="/ui/projects/{project.pk}/sharing"' in page) is expected


@pytest.mark.parametrize(("who", "expected", "done"), ACTION_MATRIX)
def test_inviting_by_role(who, expected, done, project, django_capture_on_commit_callbacks):
    invitee = UserFactory(username="bob", email="bob@example.com")
    client = client_as(who, project)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ui:member-invite", args=[project.pk]), {"user": "bob@example.com", "role": "viewer"}
        )
    assert response.status_code == expected
    invited = ProjectInvitation.objects.filter(project=project, invitee=invitee)
    assert list(invited.values_list("role", "status")) == ([("viewer", "pending")] if done else [])
    assert [message.to for message in mail.outbox] == ([["bob@example.com"]] if done else [])


@pytest.mark.parametrize(("who", "expected", "done"), ACTION_MATRIX)
def test_changing_a_member_by_role(who, expected, done, project):
    target = ProjectMembershipFactory(project=project, role=ProjectRole.VIEWER)
    response = client_as(who, project).post(
        reverse("ui:member-change", args=[project.pk, target.user_id]),
        {f"member-{target.user_id}-role": "editor", f"member-{target.user_id}-expires_at": "2099-12-31T23:59"},
    )
    assert response.status_code == expected
    target.refresh_from_db()
    if done:
        assert (target.role, target.expires_at) == (
            "editor",
            datetime.datetime(2099, 12, 31, 23, 59, tzinfo=datetime.UTC),
        )
    else:
        assert (target.role, target.expires_at) == ("viewer", None)


@pytest.mark.parametrize(("who", "expected", "done"), ACTION_MATRIX)
def test_removing_a_member_by_role(who, expected, done, project):
    target = ProjectMembershipFactory(project=project, role=ProjectRole.VIEWER)
    response = client_as(who, project).post(reverse("ui:member-remove", args=[project.pk, target.user_id]))
    assert response.status_code == expected
    assert ProjectMembership.objects.filter(pk=target.pk).exists() is not done


@pytest.mark.parametrize(("who", "expected", "done"), ACTION_MATRIX)
def test_cancelling_an_invitation_by_role(who, expected, done, project):
    invitation = ProjectInvitationFactory(project=project)
    response = client_as(who, project).post(reverse("ui:project-invitation-cancel", args=[project.pk, invitation.pk]))
    assert response.status_code == expected
    invitation.refresh_from_db()
    assert invitation.status == (InvitationStatus.CANCELLED if done else InvitationStatus.PENDING)


def test_the_sharing_page_shows_owner_members_and_pending_invitations(project):
    ProjectMembershipFactory(project=project, user=UserFactory(username="carol"), role=ProjectRole.EDITOR)
    ProjectMembershipFactory(
        project=project,
        user=UserFactory(username="dave"),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    ProjectInvitationFactory(project=project, invitee=UserFactory(username="erin"), role=ProjectRole.MAINTAINER)
    page = signed_in(project.owner).get(reverse("ui:sharing", args=[project.pk])).content.decode()
    assert f'<td class="name">{project.owner.username}</td>\n      <td>owner</td>' in page
    assert 'data-testid="member-carol"' in page
    assert '<option value="editor" selected>Editor</option>' in page
    assert 'dave <span class="badge warn">expired</span>' in page
    assert '<td class="name">erin</td>\n      <td>maintainer</td>' in page


def test_a_maintainer_grants_no_more_than_they_hold(project):
    maintainer = UserFactory()
    ProjectMembershipFactory(
        project=project,
        user=maintainer,
        role=ProjectRole.MAINTAINER,
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    UserFactory(username="bob")
    client = signed_in(maintainer)
    endless = client.post(reverse("ui:member-invite", args=[project.pk]), {"user": "bob", "role": "viewer"})
    assert endless.status_code == 400
    assert "Your own membership ends at" in endless.content.decode()
    target = ProjectMembershipFactory(project=project, role=ProjectRole.VIEWER)
    longer = client.post(
        reverse("ui:member-change", args=[project.pk, target.user_id]),
        {f"member-{target.user_id}-role": "viewer", f"member-{target.user_id}-expires_at": "2099-01-01T00:00"},
    )
    assert longer.status_code == 400
    assert "this one must end no later" in longer.content.decode()
    assert not ProjectInvitation.objects.filter(project=project).exists()
    target.refresh_from_db()
    assert target.expires_at is None


def test_nobody_changes_their_own_membership(project):
    maintainer = UserFactory()
    own = ProjectMembershipFactory(project=project, user=maintainer, role=ProjectRole.MAINTAINER)
    response = signed_in(maintainer).post(
        reverse("ui:member-change", args=[project.pk, maintainer.pk]), {f"member-{maintainer.pk}-role": "viewer"}
    )
    assert response.status_code == 403
    assert "You cannot change your own membership." in response.content.decode()
    own.refresh_from_db()
    assert own.role == ProjectRole.MAINTAINER


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"user": "nobody", "role": "viewer"}, "No active user matches &#x27;nobody&#x27;."),
        ({"user": "bob", "role": "owner"}, "Select a valid choice."),
        ({"user": "bob", "role": "viewer", "expires_at": "2000-01-01T00:00"}, "The expiry must be in the future."),
    ],
)
def test_a_refused_invitation_says_why(project, data, message):
    UserFactory(username="bob")
    response = signed_in(project.owner).post(reverse("ui:member-invite", args=[project.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProjectInvitation.objects.filter(project=project).exists()


def test_inviting_twice_is_refused(project):
    bob = UserFactory(username="bob")
    ProjectInvitationFactory(project=project, invitee=bob)
    response = signed_in(project.owner).post(
        reverse("ui:member-invite", args=[project.pk]), {"user": "bob", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "This user already has a pending invitation to this project." in response.content.decode()


def test_naming_users_is_throttled(settings, project):
    settings.AUTH_THROTTLE_RATE = "2/min"
    client = signed_in(project.owner)
    answers = [
        client.post(
            reverse("ui:member-invite", args=[project.pk]), {"user": f"n{n}@x.org", "role": "viewer"}
        ).status_code
        for n in range(3)
    ]
    assert answers == [400, 400, 429]


def test_a_maintainer_cannot_cancel_a_transfer(project):
    maintainer = UserFactory()
    ProjectMembershipFactory(project=project, user=maintainer, role=ProjectRole.MAINTAINER)
    transfer = ProjectInvitationFactory(project=project, kind=InvitationKind.TRANSFER, role="")
    response = signed_in(maintainer).post(reverse("ui:project-invitation-cancel", args=[project.pk, transfer.pk]))
    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == InvitationStatus.PENDING


def test_hostile_names_are_escaped_on_the_sharing_and_invitations_pages(project):
    project.name = "<script>alert(1)</script>"
    project.save()
    guest = UserFactory()
    ProjectInvitationFactory(project=project, invitee=guest)
    for client, url in [
        (signed_in(project.owner), reverse("ui:sharing", args=[project.pk])),
        (signed_in(guest), reverse("ui:invitations")),
    ]:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_saving_a_role_keeps_an_end_stored_with_seconds(project):
    end = datetime.datetime(2099, 6, 30, 23, 59, 59, tzinfo=datetime.UTC)
    target = ProjectMembershipFactory(project=project, role=ProjectRole.VIEWER, expires_at=end)
    page = signed_in(project.owner).get(reverse("ui:sharing", args=[project.pk])).content.decode()
    assert 'value="2099-06-30T23:59"' in page
    response = signed_in(project.owner).post(
        reverse("ui:member-change", args=[project.pk, target.user_id]),
        {f"member-{target.user_id}-role": "editor", f"member-{target.user_id}-expires_at": "2099-06-30T23:59"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.expires_at) == ("editor", end)


def test_accepting_a_transfer_makes_the_invitee_the_owner(project, other_user):
    invitation = ProjectInvitationFactory(project=project, invitee=other_user, kind=InvitationKind.TRANSFER, role="")
    client = signed_in(other_user)
    assert "the project itself (you become its owner)" in client.get(reverse("ui:invitations")).content.decode()
    response = client.post(reverse("ui:invitation-accept", args=[invitation.pk]))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.owner == other_user
    assert list(ProjectMembership.objects.filter(project=project).values_list("user_id", "role")) == [
        (invitation.invited_by_id, "maintainer")
    ]
