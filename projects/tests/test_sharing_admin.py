"""Smoke tests of the admin's memberships (the inline on the project page and the membership list) and invitations."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from accounts.tests.factories import UserFactory
from projects.models import Project, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectInvitationFactory, ProjectMembershipFactory
from registry.tests.support import autocomplete_ids, bearer_client, invitation_accept_url

pytestmark = pytest.mark.django_db

R = ProjectRole
MEMBERSHIPS_URL = reverse("admin:projects_projectmembership_changelist")
ADD_MEMBERSHIP_URL = reverse("admin:projects_projectmembership_add")


def project_change_url(pk: int) -> str:
    return reverse("admin:projects_project_change", args=[pk])


def membership_change_url(pk: int) -> str:
    return reverse("admin:projects_projectmembership_change", args=[pk])


def _project_form(project, memberships: list[dict] | None = None, initial: int = 0) -> dict:
    """The project change form as a browser posts it, with `memberships` as the inline's rows."""
    form = {
        "name": project.name,
        "owner": project.owner_id,
        "description": project.description,
        "expiration_date": "",
        "memberships-TOTAL_FORMS": str(len(memberships or [])),
        "memberships-INITIAL_FORMS": str(initial),
        "experiments-TOTAL_FORMS": "0",
        "experiments-INITIAL_FORMS": "0",
    }
    for index, row in enumerate(memberships or []):
        row = {"id": "", "project": project.pk, "expires_at_0": "", "expires_at_1": "", **row}
        form.update({f"memberships-{index}-{name}": value for name, value in row.items()})
    return form


def _inline_errors(response) -> list:
    membership_inline = next(
        inline for inline in response.context["inline_admin_formsets"] if inline.formset.prefix == "memberships"
    )
    return membership_inline.formset.errors


def test_project_change_page_shows_the_members_inline(admin_client):
    project = ProjectFactory()
    membership = ProjectMembershipFactory(project=project, role=R.EDITOR)
    response = admin_client.get(project_change_url(project.pk))
    assert response.status_code == status.HTTP_200_OK
    formsets = {inline.formset.prefix: inline for inline in response.context["inline_admin_formsets"]}
    assert [form.instance for form in formsets["memberships"].formset.forms] == [membership]
    assert membership.user.username in response.content.decode()


def test_the_members_inline_adds_nobody_since_members_join_by_accepting_an_invitation(admin_client):
    project = ProjectFactory()
    newcomer = UserFactory()
    form = _project_form(project, [{"user": newcomer.pk, "role": R.MAINTAINER}])
    response = admin_client.post(project_change_url(project.pk), form)
    assert response.status_code == status.HTTP_302_FOUND
    assert not ProjectMembership.objects.exists()
    assert not Project.objects.visible_to(newcomer).exists()


def test_the_members_inline_changes_and_deletes_memberships_keeping_the_adder(admin_client):
    project = ProjectFactory()
    changed = ProjectMembershipFactory(project=project, role=R.VIEWER)
    deleted = ProjectMembershipFactory(project=project, role=R.VIEWER)
    rows = [
        {"id": changed.pk, "user": changed.user_id, "role": R.EDITOR},
        {"id": deleted.pk, "user": deleted.user_id, "role": R.VIEWER, "DELETE": "on"},
    ]
    response = admin_client.post(project_change_url(project.pk), _project_form(project, rows, initial=2))
    assert response.status_code == status.HTTP_302_FOUND, _inline_errors(response)
    (membership,) = ProjectMembership.objects.all()
    assert (membership.pk, membership.role, membership.added_by) == (changed.pk, R.EDITOR, project.owner)


@pytest.mark.parametrize("when", [{"seconds": 1}, {"days": 1}], ids=["a second ago", "yesterday"])
def test_the_members_inline_refuses_an_expiry_in_the_past(admin_client, when):
    project = ProjectFactory()
    membership = ProjectMembershipFactory(project=project, role=R.VIEWER)
    past = timezone.localtime() - timedelta(**when)
    row = {
        "id": membership.pk,
        "role": R.VIEWER,
        "expires_at_0": past.date().isoformat(),
        "expires_at_1": past.strftime("%H:%M:%S"),
    }
    response = admin_client.post(project_change_url(project.pk), _project_form(project, [row], initial=1))
    assert response.status_code == status.HTTP_200_OK
    assert _inline_errors(response) == [{"expires_at": ["The expiry must be in the future."]}]
    assert ProjectMembership.objects.get(pk=membership.pk).expires_at is None


def test_the_owner_cannot_be_changed_in_the_admin(admin_client):
    # A change of owner is a transfer, with its own rules (the previous owner stays on as maintainer).
    project = ProjectFactory()
    owner = project.owner
    member = ProjectMembershipFactory(project=project, role=R.EDITOR)
    form = _project_form(project, [{"id": member.pk, "user": member.user_id, "role": R.EDITOR}], initial=1)
    form["owner"] = member.user_id
    response = admin_client.post(project_change_url(project.pk), form)
    assert response.status_code == status.HTTP_302_FOUND
    project.refresh_from_db()
    assert project.owner == owner


# ---------------------------------------------------------------------------------------------------------------------
# The membership list and pages
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def memberships() -> dict[str, ProjectMembership]:
    now = timezone.now()
    rows = {
        "never": ProjectMembershipFactory(role=R.VIEWER),
        "soon": ProjectMembershipFactory(role=R.EDITOR, expires_at=now + timedelta(days=2)),
        "at the window's end": ProjectMembershipFactory(
            role=R.MAINTAINER, expires_at=now + timedelta(days=7, hours=-1)
        ),
        "later": ProjectMembershipFactory(role=R.VIEWER, expires_at=now + timedelta(days=30)),
        "expired": ProjectMembershipFactory(role=R.EDITOR, expires_at=now - timedelta(hours=1)),
    }
    return rows


def _listed(response) -> set[int]:
    assert response.status_code == status.HTTP_200_OK
    return {membership.pk for membership in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"never", "soon", "at the window's end", "later", "expired"}),
        ({"role__exact": R.VIEWER}, {"never", "later"}),
        ({"role__exact": R.EDITOR}, {"soon", "expired"}),
        ({"role__exact": R.MAINTAINER}, {"at the window's end"}),
        ({"expiry": "soon"}, {"soon", "at the window's end"}),
        ({"expiry": "expired"}, {"expired"}),
        ({"expiry": "never"}, {"never"}),
        ({"expiry": "soon", "role__exact": R.EDITOR}, {"soon"}),
    ],
    ids=["all", "viewer", "editor", "maintainer", "expiry soon", "expired", "never expires", "combined"],
)
def test_membership_changelist_filters(admin_client, memberships, params, expected):
    assert _listed(admin_client.get(MEMBERSHIPS_URL, params)) == {memberships[name].pk for name in expected}


def test_membership_changelist_searches_user_and_project(admin_client):
    wanted = ProjectMembershipFactory(user=UserFactory(username="findme"), project__name="lake")
    ProjectMembershipFactory(project__name="warehouse")
    assert _listed(admin_client.get(MEMBERSHIPS_URL, {"q": "FINDME"})) == {wanted.pk}
    assert _listed(admin_client.get(MEMBERSHIPS_URL, {"q": "lake"})) == {wanted.pk}


def test_membership_changelist_queries_do_not_grow_with_the_rows(
    admin_client, django_assert_max_num_queries, django_assert_num_queries
):
    ProjectMembershipFactory()
    with django_assert_max_num_queries(20) as one_row:
        assert admin_client.get(MEMBERSHIPS_URL).status_code == status.HTTP_200_OK
    ProjectMembershipFactory.create_batch(9, added_by=UserFactory())
    with django_assert_num_queries(len(one_row)):
        assert admin_client.get(MEMBERSHIPS_URL).status_code == status.HTTP_200_OK


def test_there_is_no_membership_add_page_since_members_join_by_accepting_an_invitation(admin_client):
    assert admin_client.get(ADD_MEMBERSHIP_URL).status_code == status.HTTP_403_FORBIDDEN
    form = {"project": ProjectFactory().pk, "user": UserFactory().pk, "role": R.EDITOR}
    assert admin_client.post(ADD_MEMBERSHIP_URL, form).status_code == status.HTTP_403_FORBIDDEN
    assert not ProjectMembership.objects.exists()


def _membership_form(membership: ProjectMembership, moment=None, role=None) -> dict:
    local = timezone.localtime(moment) if moment else None
    return {
        "role": role or membership.role,
        "expires_at_0": local.date().isoformat() if local else "",
        "expires_at_1": local.strftime("%H:%M:%S") if local else "",
    }


@pytest.mark.parametrize("when", [{"seconds": 1}, {"days": 1}], ids=["a second ago", "yesterday"])
def test_membership_change_page_refuses_an_expiry_in_the_past(admin_client, when):
    membership = ProjectMembershipFactory(role=R.VIEWER)
    response = admin_client.post(
        membership_change_url(membership.pk), _membership_form(membership, timezone.now() - timedelta(**when))
    )
    assert response.status_code == status.HTTP_200_OK
    assert response.context["adminform"].form.errors == {"expires_at": ["The expiry must be in the future."]}
    assert ProjectMembership.objects.get(pk=membership.pk).expires_at is None


def test_membership_change_page_does_not_renew_an_expired_membership(admin_client):
    membership = ProjectMembershipFactory(role=R.VIEWER, expires_at=timezone.now() - timedelta(days=1))
    response = admin_client.post(
        membership_change_url(membership.pk), _membership_form(membership, timezone.now() + timedelta(days=5))
    )
    assert response.status_code == status.HTTP_200_OK
    assert response.context["adminform"].form.errors == {
        "expires_at": ["This membership has expired; invite the user again to renew it."]
    }
    assert ProjectMembership.objects.get(pk=membership.pk).expires_at == membership.expires_at


def test_membership_change_page_sets_an_expiry_in_the_future(admin_client):
    membership = ProjectMembershipFactory(role=R.VIEWER)
    later = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    response = admin_client.post(membership_change_url(membership.pk), _membership_form(membership, later))
    assert response.status_code == status.HTTP_302_FOUND, response.context["adminform"].form.errors
    assert ProjectMembership.objects.get(pk=membership.pk).expires_at == later


def test_membership_change_page_keeps_the_adder(admin_client):
    membership = ProjectMembershipFactory(role=R.VIEWER)
    url = membership_change_url(membership.pk)
    assert admin_client.get(url).status_code == status.HTTP_200_OK
    form = {
        "project": membership.project_id,
        "user": membership.user_id,
        "role": R.MAINTAINER,
        "expires_at_0": "",
        "expires_at_1": "",
    }
    response = admin_client.post(url, form)
    assert response.status_code == status.HTTP_302_FOUND, response.context["adminform"].form.errors
    stored = ProjectMembership.objects.get(pk=membership.pk)
    assert (stored.role, stored.added_by) == (R.MAINTAINER, membership.project.owner)


def test_user_autocomplete_answers_for_the_membership_list_filter(admin_client):
    user = UserFactory(username="findme")
    assert autocomplete_ids(admin_client, "projects.projectmembership", "user", "findme") == [str(user.pk)]


# ---------------------------------------------------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------------------------------------------------

INVITATIONS_URL = reverse("admin:projects_projectinvitation_changelist")


def test_invitation_changelist_lists_filters_and_searches(admin_client):
    wanted = ProjectInvitationFactory(invitee=UserFactory(username="findme"), project__name="lake")
    declined = ProjectInvitationFactory(project__name="warehouse", status="declined")
    transfer = ProjectInvitationFactory(kind="transfer", role="")
    assert _listed(admin_client.get(INVITATIONS_URL)) == {wanted.pk, declined.pk, transfer.pk}
    assert _listed(admin_client.get(INVITATIONS_URL, {"q": "FINDME"})) == {wanted.pk}
    assert _listed(admin_client.get(INVITATIONS_URL, {"q": "lake"})) == {wanted.pk}
    assert _listed(admin_client.get(INVITATIONS_URL, {"status__exact": "declined"})) == {declined.pk}
    assert _listed(admin_client.get(INVITATIONS_URL, {"kind__exact": "transfer"})) == {transfer.pk}
    page = admin_client.get(reverse("admin:projects_projectinvitation_change", args=[wanted.pk]))
    assert page.status_code == status.HTTP_200_OK


def test_invitations_are_neither_added_nor_changed_nor_deleted_in_the_admin(admin_client):
    invitation = ProjectInvitationFactory()
    assert admin_client.get(reverse("admin:projects_projectinvitation_add")).status_code == 403
    change = admin_client.post(
        reverse("admin:projects_projectinvitation_change", args=[invitation.pk]), {"role": R.MAINTAINER}
    )
    assert change.status_code == status.HTTP_403_FORBIDDEN
    delete = admin_client.post(
        reverse("admin:projects_projectinvitation_delete", args=[invitation.pk]), {"post": "yes"}
    )
    assert delete.status_code == status.HTTP_403_FORBIDDEN
    assert ProjectInvitation.objects.get(pk=invitation.pk).role == R.VIEWER


def test_staff_cancel_pending_invitations_from_the_list(admin_client):
    pending = ProjectInvitationFactory()
    accepted = ProjectInvitationFactory(status="accepted")
    response = admin_client.post(
        INVITATIONS_URL, {"action": "cancel_invitations", "_selected_action": [pending.pk, accepted.pk]}
    )
    assert response.status_code == status.HTTP_302_FOUND
    assert ProjectInvitation.objects.get(pk=pending.pk).status == "cancelled"
    assert ProjectInvitation.objects.get(pk=accepted.pk).status == "accepted"
    invitee = bearer_client(pending.invitee)
    assert invitee.post(invitation_accept_url(pending.pk)).status_code == status.HTTP_404_NOT_FOUND


def test_invitation_changelist_queries_do_not_grow_with_the_rows(
    admin_client, django_assert_max_num_queries, django_assert_num_queries
):
    ProjectInvitationFactory()
    with django_assert_max_num_queries(20) as one_row:
        assert admin_client.get(INVITATIONS_URL).status_code == status.HTTP_200_OK
    ProjectInvitationFactory.create_batch(9)
    with django_assert_num_queries(len(one_row)):
        assert admin_client.get(INVITATIONS_URL).status_code == status.HTTP_200_OK
