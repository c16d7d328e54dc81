"""One reading of a name everywhere: an integer is an id, a string with `@` an e-mail, any other string a username."""

import pytest
from django.urls import reverse
from rest_framework import status

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from projects.models import ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("user-list")
TOKEN_URL = reverse("auth-token")
ME_URL = reverse("user-me")


def _register(api_client, username: str, email: str):
    return api_client.post(REGISTER_URL, {"username": username, "email": email, "password": PASSWORD})


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("55", "A username cannot be digits alone."),
        ("０７", "A username cannot be digits alone."),
        ("victim@example.com", "Enter a username of letters, digits and . _ + - only (no @)."),
        ("VICTIM@EXAMPLE.COM", "Enter a username of letters, digits and . _ + - only (no @)."),
        ("line\nbreak", "Enter a username of letters, digits and . _ + - only (no @)."),
    ],
)
def test_registration_refuses_usernames_that_look_like_an_id_or_an_email(api_client, username, message):
    response = _register(api_client, username, "someone@example.com")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert message in response.json()["username"]
    assert not User.objects.exists()


def test_a_username_may_hold_digits_beside_letters(api_client):
    assert _register(api_client, "agent007", "bond@example.com").status_code == status.HTTP_201_CREATED


def test_a_user_cannot_rename_themself_to_another_users_email(client_for):
    victim = UserFactory(username="victim", email="victim@example.com")
    squatter = UserFactory(username="squatter")
    response = client_for(squatter).patch(ME_URL, {"username": victim.email.upper()})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert User.objects.get(pk=squatter.pk).username == "squatter"


def test_a_numeric_string_never_names_an_account_by_id(client_for):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    target = UserFactory()
    url = reverse("project-member-list", args=[project.pk])
    response = client_for(owner).post(url, {"user": str(target.pk), "role": ProjectRole.VIEWER})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"user": [f"No active user matches '{target.pk}'."]}
    assert not ProjectMembership.objects.exists()


def test_a_json_integer_is_always_an_id_for_members(client_for):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    target = UserFactory(username="target")
    response = client_for(owner).post(
        reverse("project-member-list", args=[project.pk]), {"user": target.pk, "role": ProjectRole.VIEWER}
    )
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert ProjectInvitation.objects.get(project=project).invitee_id == target.pk


def test_a_json_integer_is_always_an_id_for_transfers(client_for):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    target = UserFactory(username="target")
    response = client_for(owner).post(reverse("project-transfer", args=[project.pk]), {"user": target.pk})
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert ProjectInvitation.objects.get(project=project).invitee_id == target.pk


def test_an_email_names_the_account_that_holds_it_when_adding_a_member(client_for):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    victim = UserFactory(username="victim", email="victim@example.com")
    response = client_for(owner).post(
        reverse("project-member-list", args=[project.pk]), {"user": "VICTIM@example.com", "role": ProjectRole.VIEWER}
    )
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert ProjectInvitation.objects.get(project=project).invitee_id == victim.pk


def test_login_by_email_reaches_the_account_that_holds_the_email(api_client):
    victim = UserFactory(username="victim", email="victim@example.com")
    UserFactory(username="victim-example.com", email="squatter@example.com")
    response = api_client.post(TOKEN_URL, {"username": "Victim@Example.com", "password": PASSWORD})
    assert response.status_code == status.HTTP_200_OK
    me = api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["id"] == victim.pk


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ärger", "ärger"), ("Ǆx", "ǆx"), ("Straße", "STRASSE"), ("ﬁle", "file"), ("Ｗide", "wide")],
)
def test_usernames_that_fold_alike_clash(api_client, first, second):
    assert _register(api_client, first, "first@example.com").status_code == status.HTTP_201_CREATED
    response = _register(api_client, second, "second@example.com")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_emails_that_fold_alike_clash(api_client):
    assert _register(api_client, "first", "mail@ärger.example").status_code == status.HTTP_201_CREATED
    response = _register(api_client, "second", "MAIL@ÄRGER.example")
    assert response.json() == {"email": ["A user with that email already exists."]}
    assert User.objects.count() == 1


def test_login_finds_a_username_in_any_unicode_case(api_client):
    UserFactory(username="Ärger")
    response = api_client.post(TOKEN_URL, {"username": "äRGER", "password": PASSWORD})
    assert response.status_code == status.HTTP_200_OK


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_names_refuse_control_characters(client_for, field):
    user = UserFactory(first_name="Ann", last_name="Lee")
    response = client_for(user).patch(ME_URL, {field: "Ann\nceo@example.com"})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {field: ["Control characters are not allowed; found U+000A."]}
    assert (User.objects.get(pk=user.pk).first_name, User.objects.get(pk=user.pk).last_name) == ("Ann", "Lee")
