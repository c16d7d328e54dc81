"""The /auth/tokens routes: creating, listing, reading and revoking one's own personal access tokens."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("personal-access-token-list")
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def detail_url(pk) -> str:
    return reverse("personal-access-token-detail", args=[pk])


def _row(token: PersonalAccessToken) -> dict | None:
    return PersonalAccessToken.objects.filter(pk=token.pk).values().first()


@pytest.fixture
def pat_client():
    """An API client that sends a personal access token of the given user and scope as a bearer token."""

    def make(user, scope="write") -> APIClient:
        secret = f"reg_pat_{scope}{user.pk:040d}"
        PersonalAccessTokenFactory(user=user, scope=scope, secret=secret)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


# Creation -----------------------------------------------------------------------------------------------------------


def test_create_answers_the_secret_once_with_the_defaults(client_for, user, time_machine):
    time_machine.move_to(T0, tick=False)

    response = client_for(user).post(LIST_URL, {"name": "ci"})

    assert response.status_code == status.HTTP_201_CREATED, response.content
    body = dict(response.json())
    secret = body.pop("token")
    token = PersonalAccessToken.objects.get()
    assert body == {
        "id": token.pk,
        "name": "ci",
        "scope": "write",
        "token_prefix": secret[:16],
        "created_at": "2030-01-01T12:00:00Z",
        "expires_at": "2030-04-01T12:00:00Z",
        "last_used_at": None,
    }
    assert list(response.json()) == [
        "id",
        "name",
        "scope",
        "token",
        "token_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
    ]
    assert secret.startswith("reg_pat_") and len(secret) == 51
    assert response["Location"] == f"http://testserver/auth/tokens/{token.pk}"
    assert token.user == user


def test_create_with_a_scope_and_a_lifetime(client_for, user, time_machine):
    time_machine.move_to(T0, tick=False)

    response = client_for(user).post(LIST_URL, {"name": "dashboards", "scope": "read", "expires_in_days": 1})

    assert response.status_code == status.HTTP_201_CREATED
    assert (response.json()["scope"], response.json()["expires_at"]) == ("read", "2030-01-02T12:00:00Z")


def test_create_works_with_and_without_the_trailing_slash(user_client):
    assert user_client.post("/auth/tokens", {"name": "a"}).status_code == status.HTTP_201_CREATED
    assert user_client.post("/auth/tokens/", {"name": "b"}).status_code == status.HTTP_201_CREATED


def test_create_mails_the_owner(user_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(LIST_URL, {"name": "nightly"})

    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([user.email], "A personal access token was created: nightly")
    ]
    assert response.json()["token"] not in mail.outbox[0].body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"name": "a\rb"}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "esc\u001b[31m"}, "name"),
        ({"name": "del\u007f"}, "name"),
        ({"name": "next\u0085line"}, "name"),
        ({"name": "ok", "scope": "admin"}, "scope"),
        ({"name": "ok", "scope": ""}, "scope"),
        ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": -1}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 1.5}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 10**18}, "expires_in_days"),
    ],
)
def test_invalid_bodies_are_field_errors_and_store_nothing(user_client, body, field):
    response = user_client.post(LIST_URL, body, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    assert list(response.json()) == [field]
    assert not PersonalAccessToken.objects.exists()


def test_a_name_with_a_line_break_says_why(user_client):
    response = user_client.post(LIST_URL, {"name": "ci\nBcc: attacker@example.com"})

    assert response.json() == {"name": ["Control characters are not allowed; found U+000A."]}


def test_a_unicode_name_is_kept_and_mailed(user_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(LIST_URL, {"name": "entraînement 训练 🚀"})

    assert response.json()["name"] == "entraînement 训练 🚀"
    assert [message.subject for message in mail.outbox] == ["A personal access token was created: entraînement 训练 🚀"]


def test_name_of_100_characters_and_a_lifetime_of_365_days_are_accepted(user_client):
    response = user_client.post(LIST_URL, {"name": "x" * 100, "expires_in_days": 365})

    assert response.status_code == status.HTTP_201_CREATED


def test_a_name_taken_in_another_case_is_a_field_error(user_client, user):
    PersonalAccessTokenFactory(user=user, name="Deploy")

    response = user_client.post(LIST_URL, {"name": "deploy"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"name": ["You already have a token with this name."]}


def test_another_users_token_name_is_free(user_client, other_user):
    PersonalAccessTokenFactory(user=other_user, name="deploy")

    assert user_client.post(LIST_URL, {"name": "deploy"}).status_code == status.HTTP_201_CREATED


def test_anonymous_create_is_401(api_client):
    response = api_client.post(LIST_URL, {"name": "ci"})

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not PersonalAccessToken.objects.exists()


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_personal_access_token_cannot_create_another(pat_client, user, scope):
    response = pat_client(user, scope).post(LIST_URL, {"name": "more"})

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert PersonalAccessToken.objects.count() == 1


def test_write_token_is_told_why_it_cannot_create_another(pat_client, user):
    response = pat_client(user, "write").post(LIST_URL, {"name": "more"})

    assert response.json() == {"detail": "A personal access token cannot do this; log in with your password."}


def test_a_session_may_create_a_token(user):
    client = APIClient()
    client.force_login(user)

    assert client.post(LIST_URL, {"name": "from the browser"}).status_code == status.HTTP_201_CREATED


def test_creation_is_throttled_per_account_and_per_address(settings, user_client, other_client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    home, elsewhere = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}

    codes = [user_client.post(LIST_URL, {"name": f"t{n}"}, **home).status_code for n in range(4)]
    refused = user_client.post(LIST_URL, {"name": "t9"}, **home)
    same_user_elsewhere = user_client.post(LIST_URL, {"name": "t8"}, **elsewhere)
    other_user_same_address = other_client.post(LIST_URL, {"name": "t0"}, **home)
    other_user_elsewhere = other_client.post(LIST_URL, {"name": "t0"}, **elsewhere)

    assert codes == [201, 201, 201, 429]
    assert int(refused["Retry-After"]) > 0
    assert (same_user_elsewhere.status_code, other_user_same_address.status_code) == (429, 429)
    assert other_user_elsewhere.status_code == status.HTTP_201_CREATED
    assert PersonalAccessToken.objects.count() == 4


def test_listing_and_revoking_are_not_throttled_with_creation(settings, user_client, user):
    settings.AUTH_THROTTLE_RATE = "1/min"
    user_client.post(LIST_URL, {"name": "t0"})

    assert user_client.get(LIST_URL).status_code == status.HTTP_200_OK
    assert user_client.get(LIST_URL).status_code == status.HTTP_200_OK


# Listing and reading ------------------------------------------------------------------------------------------------


def test_list_shows_the_callers_tokens_newest_first_without_secrets(client_for, user, other_user, time_machine):
    time_machine.move_to(T0, tick=False)
    older = PersonalAccessTokenFactory(user=user, name="older")
    time_machine.move_to(datetime(2030, 1, 2, tzinfo=UTC), tick=False)
    newer = PersonalAccessTokenFactory(user=user, name="newer", scope="read")
    PersonalAccessTokenFactory(user=other_user, name="not yours")

    response = client_for(user).get(LIST_URL)

    assert response.status_code == status.HTTP_200_OK
    assert response.json() == [
        {
            "id": newer.pk,
            "name": "newer",
            "scope": "read",
            "token_prefix": newer.token_prefix,
            "created_at": "2030-01-02T00:00:00Z",
            "expires_at": "2030-04-02T00:00:00Z",
            "last_used_at": None,
        },
        {
            "id": older.pk,
            "name": "older",
            "scope": "write",
            "token_prefix": older.token_prefix,
            "created_at": "2030-01-01T12:00:00Z",
            "expires_at": "2030-04-01T12:00:00Z",
            "last_used_at": None,
        },
    ]
    assert response["X-Total-Count"] == "2"


def test_anonymous_list_is_401(api_client):
    assert api_client.get(LIST_URL).status_code == status.HTTP_401_UNAUTHORIZED


def test_owner_reads_a_token(user_client, user):
    token = PersonalAccessTokenFactory(user=user, name="ci")

    response = user_client.get(detail_url(token.pk))

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["name"] == "ci"
    assert "token" not in response.json() and "digest" not in response.json()


@pytest.mark.parametrize("method", ["get", "delete"])
def test_someone_elses_token_answers_404_like_a_missing_one(other_client, user, method):
    token = PersonalAccessTokenFactory(user=user)
    before = _row(token)

    foreign = getattr(other_client, method)(detail_url(token.pk))
    missing = getattr(other_client, method)(detail_url(token.pk + 1000))

    assert (foreign.status_code, foreign.json()) == (404, {"detail": "No PersonalAccessToken matches the given query."})
    assert (missing.status_code, missing.json()) == (foreign.status_code, foreign.json())
    assert _row(token) == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_tokens_cannot_be_changed(user_client, user, method):
    token = PersonalAccessTokenFactory(user=user, name="ci")

    response = getattr(user_client, method)(detail_url(token.pk), {"name": "renamed"})

    assert response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED
    assert _row(token)["name"] == "ci"


def test_id_too_large_for_the_database_answers_404(user_client):
    assert user_client.get(detail_url(10**30)).status_code == status.HTTP_404_NOT_FOUND


# Revocation ---------------------------------------------------------------------------------------------------------


def test_delete_revokes_at_once(user_client, user, pat_client):
    client = pat_client(user)
    token = PersonalAccessToken.objects.get()
    assert client.get("/users/me").status_code == status.HTTP_200_OK

    response = user_client.delete(detail_url(token.pk))

    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not PersonalAccessToken.objects.exists()
    refused = client.get("/users/me")
    assert refused.status_code == status.HTTP_401_UNAUTHORIZED
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert refused.json() == {"detail": "Invalid personal access token."}


def test_a_token_may_revoke_itself(user, pat_client):
    client = pat_client(user)
    token = PersonalAccessToken.objects.get()

    assert client.delete(detail_url(token.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert client.get("/users/me").status_code == status.HTTP_401_UNAUTHORIZED
