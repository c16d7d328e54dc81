"""Accounts as the seed APIs' clients send them: registration without a username, `full_name`, password reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("register")
USERS_URL = reverse("user-list")
TOKEN_URL = reverse("auth-token")
RESET_URL = reverse("auth-password-reset")
CONFIRM_URL = reverse("auth-password-reset-confirm")
NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.mark.parametrize("url", [REGISTER_URL, USERS_URL])
@pytest.mark.parametrize(
    ("body", "username", "full_name"),
    [
        ({"email": "alice@example.com", "password": PASSWORD}, "alice", ""),
        (
            {"email": "alice@example.com", "full_name": "Alice Example", "password": PASSWORD},
            "alice",
            "Alice Example",
        ),
        ({"username": "al", "email": "alice@example.com", "password": PASSWORD}, "al", ""),
    ],
)
def test_each_seed_registration_body_is_accepted(api_client, url, body, username, full_name):
    response = api_client.post(url, body)
    assert response.status_code == status.HTTP_201_CREATED, response.content
    data = response.json()
    assert (data["username"], data["full_name"], data["email"]) == (username, full_name, "alice@example.com")
    assert api_client.post(TOKEN_URL, {"username": "alice@example.com", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    ("email", "username"),
    [
        ("bob.smith@example.com", "bob.smith"),
        ("12345@example.com", "user-12345"),
        ("o'neil+tag@example.com", "o-neil+tag"),
        ("-.dots.-@example.com", "dots"),
    ],
)
def test_a_username_made_from_the_email_follows_the_rules(api_client, email, username):
    response = api_client.post(REGISTER_URL, {"email": email, "password": PASSWORD})
    assert response.json()["username"] == username


def test_a_username_made_from_the_email_gets_a_suffix_when_taken(api_client):
    UserFactory(username="carol", email="carol@one.example")
    response = api_client.post(REGISTER_URL, {"email": "carol@two.example", "password": PASSWORD})
    assert response.status_code == status.HTTP_201_CREATED
    assert re.fullmatch(r"carol-[0-9a-f]{4}", response.json()["username"])


def test_twenty_registrations_with_one_local_part_get_twenty_usernames(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "1000/min"
    names = [
        api_client.post(REGISTER_URL, {"email": f"dan@host{n}.example", "password": PASSWORD}).json()["username"]
        for n in range(20)
    ]
    assert len(set(names)) == 20
    assert names[0] == "dan"
    assert all(re.fullmatch(r"dan-[0-9a-f]{4}", name) for name in names[1:])


@pytest.mark.parametrize("full_name", ["Ada King, Countess of Lovelace", "Jean-Luc Picard", "李小龍", "Prince"])
def test_full_name_round_trips_exactly(client_for, full_name):
    user = UserFactory(first_name="", last_name="", full_name="")
    response = client_for(user).patch(reverse("user-me"), {"full_name": full_name})
    assert response.json()["full_name"] == full_name
    assert client_for(user).get(reverse("user-me")).json()["full_name"] == full_name
    assert User.objects.get(pk=user.pk).full_name == full_name


def test_first_and_last_names_give_the_full_name_they_always_gave(api_client):
    body = {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "password": PASSWORD}
    assert api_client.post(REGISTER_URL, body).json()["full_name"] == "Grace Hopper"


def test_changing_a_first_name_changes_the_full_name(client_for):
    user = UserFactory(first_name="Grace", last_name="Hopper", full_name="Grace Hopper")
    assert client_for(user).patch(reverse("user-me"), {"first_name": "Amazing"}).json()["full_name"] == (
        "Amazing Hopper"
    )


@pytest.mark.parametrize("url", [REGISTER_URL, USERS_URL])
def test_a_full_name_that_contradicts_first_and_last_names_is_400(api_client, url):
    body = {"email": "g@example.com", "first_name": "Grace", "last_name": "Hopper", "full_name": "Ada Lovelace"}
    response = api_client.post(url, {**body, "password": PASSWORD})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {
        "full_name": ["The full name must be the first and last names joined by a space: 'Grace Hopper'."]
    }
    assert not User.objects.exists()


def test_staff_create_an_account_without_a_password(client_for):
    staff = UserFactory(is_staff=True)
    response = client_for(staff).post(USERS_URL, {"email": "newhire@example.com", "full_name": "New Hire"})
    assert response.status_code == status.HTTP_201_CREATED, response.content
    created = User.objects.get(email="newhire@example.com")
    assert not created.has_usable_password()


@pytest.mark.parametrize("url", [REGISTER_URL, USERS_URL])
def test_anyone_else_must_give_a_password(api_client, url):
    response = api_client.post(url, {"email": "someone@example.com"})
    assert response.json() == {"password": ["This field is required."]}
    assert not User.objects.exists()


@pytest.fixture
def ask_reset(api_client, django_capture_on_commit_callbacks):
    """POST /auth/password/reset, with the mail sent as it is once the request's transaction commits."""

    def ask(email: str, username: str | None = None, **extra):
        body = {"email": email} if username is None else {"email": email, "username": username}
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(RESET_URL, body, **extra)

    return ask


def _reset_mail_parts() -> tuple[str, str]:
    body = mail.outbox[-1].body
    return re.search(r"^uid: (\S+)$", body, re.M).group(1), re.search(r"^token: (\S+)$", body, re.M).group(1)


def test_the_whole_reset_flow_sets_a_password_that_logs_in_and_revokes_old_tokens(api_client, ask_reset, settings):
    settings.PASSWORD_RESET_URL = "https://registry.example.com/reset"
    user = UserFactory(email="erin@example.com")
    old = api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD}).json()

    response = ask_reset("ERIN@example.com")
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert [message.to for message in mail.outbox] == [["erin@example.com"]]
    uid, token = _reset_mail_parts()
    assert f"https://registry.example.com/reset?uid={uid}&token={token}" in mail.outbox[0].body

    confirm = api_client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert confirm.status_code == status.HTTP_204_NO_CONTENT
    assert api_client.post(TOKEN_URL, {"username": "erin@example.com", "password": NEW_PASSWORD}).status_code == 200
    assert api_client.post(TOKEN_URL, {"username": "erin@example.com", "password": PASSWORD}).status_code == 401
    assert api_client.post(reverse("auth-refresh"), {"refresh": old["refresh"]}).status_code == 401
    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {old['access']}").status_code == 401


def test_a_used_reset_token_is_400(api_client, ask_reset):
    UserFactory(email="erin@example.com")
    ask_reset("erin@example.com")
    uid, token = _reset_mail_parts()
    api_client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    again = api_client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": "yet-another-passphrase"})
    assert again.status_code == status.HTTP_400_BAD_REQUEST
    assert again.json() == {"token": ["This password reset link is invalid, used or expired."]}


def test_an_expired_reset_token_is_400(api_client, ask_reset, settings, time_machine):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    user = UserFactory(email="erin@example.com")
    ask_reset("erin@example.com")
    uid, token = _reset_mail_parts()
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    response = api_client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "MQ", "token": "forged-token", "new_password": NEW_PASSWORD},
        {"uid": "not base64!", "token": "x", "new_password": NEW_PASSWORD},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "token": "x", "new_password": NEW_PASSWORD},
    ],
)
def test_a_forged_reset_token_is_400(api_client, body):
    UserFactory()
    response = api_client.post(CONFIRM_URL, body)
    assert response.json() == {"token": ["This password reset link is invalid, used or expired."]}


def test_an_unknown_email_answers_exactly_like_a_known_one(ask_reset):
    UserFactory(email="known@example.com")
    known = ask_reset("known@example.com")
    unknown = ask_reset("unknown@example.com")
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (204, b"")
    assert sorted(known.headers) == sorted(unknown.headers)
    assert [message.to for message in mail.outbox] == [["known@example.com"]]


def test_an_account_made_without_a_password_sets_one_through_a_reset(api_client, ask_reset, client_for):
    client_for(UserFactory(is_staff=True)).post(USERS_URL, {"email": "newhire@example.com"})
    ask_reset("newhire@example.com")
    uid, token = _reset_mail_parts()
    assert api_client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": NEW_PASSWORD}).status_code == 204
    assert api_client.post(TOKEN_URL, {"username": "newhire@example.com", "password": NEW_PASSWORD}).status_code == 200


def test_reset_requests_are_throttled_per_email(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/min"
    answers = [
        api_client.post(RESET_URL, {"email": "erin@example.com"}, REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert answers == [204, 204, 429]


def test_reset_requests_are_counted_by_the_email_whatever_else_the_body_names(ask_reset, settings):
    settings.AUTH_THROTTLE_RATE = "10/min"
    UserFactory(email="erin@example.com")
    answers = [
        ask_reset("erin@example.com", username=f"decoy-{n}", REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(12)
    ]
    assert answers == [204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 429, 429]
    assert [message.to for message in mail.outbox] == [["erin@example.com"]] * 10


def test_reset_confirmations_are_throttled(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/min"
    body = {"uid": "MQ", "token": "guess", "new_password": NEW_PASSWORD}
    assert [api_client.post(CONFIRM_URL, body).status_code for _ in range(3)] == [400, 400, 429]
