"""An account's e-mail changes only with the password and once the new address confirms it (issue: a write personal
access token took accounts over by changing the e-mail, then resetting the password)."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework import status
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

EMAIL_URL = reverse("auth-email")
CONFIRM_URL = reverse("auth-email-confirm")
RESET_URL = reverse("auth-password-reset")
ME_URL = reverse("user-me")


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a request with the mail it queues sent, as the worker does once the request's transaction commits."""

    def send(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return send


def pat_client(user, scope="write") -> APIClient:
    secret = f"reg_pat_{scope}{user.pk:040d}"
    PersonalAccessTokenFactory(user=user, scope=scope, secret=secret)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def confirmation(to: str) -> dict:
    """The uid and token of the last confirmation mailed to `to`."""
    body = [message for message in mail.outbox if message.to == [to]][-1].body
    return {key: re.search(rf"^{key}: (\S+)$", body, re.M).group(1) for key in ("uid", "token")}


def stored_email(user) -> str:
    return User.objects.get(pk=user.pk).email


def test_a_personal_access_token_cannot_change_the_email_by_patch(sent, user):
    response = sent(pat_client(user).patch, ME_URL, {"email": "thief@evil.example"}, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "POST /auth/email" in response.json()["email"][0]
    assert stored_email(user) == f"{user.username}@example.com"
    # A reset asked for the thief's address finds no account, and one for the owner's goes to the owner.
    assert sent(APIClient().post, RESET_URL, {"email": "thief@evil.example"}).status_code == 204
    assert mail.outbox == []


def test_a_password_login_cannot_change_the_email_by_patch_either(sent, user_client, user):
    response = sent(user_client.patch, ME_URL, {"email": "new@example.com"}, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert stored_email(user) == f"{user.username}@example.com"
    assert mail.outbox == []


@pytest.mark.parametrize("scope", ["write", "read"])
def test_no_personal_access_token_may_ask_for_a_new_email(sent, user, scope):
    body = {"current_password": PASSWORD, "email": "new@example.com"}

    response = sent(pat_client(user, scope).post, EMAIL_URL, body, format="json")

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert User.objects.get(pk=user.pk).pending_email == ""
    assert mail.outbox == []


def test_a_wrong_current_password_changes_nothing(sent, user_client, user):
    response = sent(user_client.post, EMAIL_URL, {"current_password": "wrong", "email": "new@example.com"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"current_password": ["The current password is not correct."]}
    assert User.objects.get(pk=user.pk).pending_email == ""
    assert mail.outbox == []


def test_the_email_changes_once_the_new_address_confirms(sent, user_client, user):
    old = user.email

    response = sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "new@example.com"})

    assert response.status_code == status.HTTP_202_ACCEPTED
    assert sorted((message.to[0], message.subject) for message in mail.outbox) == [
        ("new@example.com", "Registry: confirm your new e-mail"),
        (old, "Registry: your e-mail is about to change"),
    ]
    assert "new@example.com" in [m for m in mail.outbox if m.to == [old]][0].body
    assert (stored_email(user), user_client.get(ME_URL).json()["pending_email"]) == (old, "new@example.com")

    # Until confirmed, a reset goes to the old address; the new one is no account's yet.
    mail.outbox.clear()
    sent(APIClient().post, RESET_URL, {"email": "new@example.com"})
    sent(APIClient().post, RESET_URL, {"email": old})
    assert [message.to for message in mail.outbox] == [[old]]


def test_confirming_sets_the_email_once(sent, user_client, user):
    sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "new@example.com"})
    link = confirmation("new@example.com")

    first = APIClient().post(CONFIRM_URL, link)
    again = APIClient().post(CONFIRM_URL, link)

    assert (first.status_code, again.status_code) == (status.HTTP_204_NO_CONTENT, status.HTTP_400_BAD_REQUEST)
    assert again.json() == {"token": ["This confirmation link is invalid, used or expired."]}
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.com", "")
    assert user_client.get(ME_URL).json()["pending_email"] is None
    # The new address now logs in and receives resets.
    login = APIClient().post(reverse("auth-token"), {"username": "new@example.com", "password": PASSWORD})
    assert login.status_code == status.HTTP_200_OK


def test_a_password_change_cancels_a_pending_confirmation(sent, user_client, user):
    sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "new@example.com"})
    link = confirmation("new@example.com")
    services.user_change_password(user=user, current_password=PASSWORD, new_password="another-long-passphrase")

    response = APIClient().post(CONFIRM_URL, link)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert stored_email(user) == f"{user.username}@example.com"


def test_a_newer_request_replaces_the_older_link(sent, user_client, user):
    sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "first@example.com"})
    older = confirmation("first@example.com")
    sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "second@example.com"})

    assert APIClient().post(CONFIRM_URL, older).status_code == status.HTTP_400_BAD_REQUEST
    assert APIClient().post(CONFIRM_URL, confirmation("second@example.com")).status_code == 204
    assert stored_email(user) == "second@example.com"


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("OTHER@example.com", {"email": ["A user with that email already exists."]}),
        ("SAME@example.com", {"email": ["This is already the account's e-mail."]}),
    ],
)
def test_an_email_taken_or_unchanged_is_refused(user_client, user, email, expected):
    UserFactory(email="other@example.com")
    User.objects.filter(pk=user.pk).update(email="same@example.com", email_key="same@example.com")

    response = user_client.post(EMAIL_URL, {"current_password": PASSWORD, "email": email})

    assert (response.status_code, response.json()) == (status.HTTP_400_BAD_REQUEST, expected)


def test_a_forged_confirmation_is_refused(user):
    User.objects.filter(pk=user.pk).update(pending_email="new@example.com")

    uid = urlsafe_base64_encode(force_bytes(user.pk))

    response = APIClient().post(CONFIRM_URL, {"uid": uid, "token": "cn0abc-0123456789abcdef0123456789abcdef"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert stored_email(user) == f"{user.username}@example.com"


def test_staff_changing_someone_elses_email_waits_for_the_confirmation(sent, client_for, staff_user, user):
    response = sent(client_for(staff_user).patch, reverse("user-detail", args=[user.pk]), {"email": "n@example.com"})

    assert response.status_code == status.HTTP_200_OK
    assert (response.json()["email"], response.json()["pending_email"]) == (user.email, "n@example.com")
    assert sorted(message.to[0] for message in mail.outbox) == sorted(["n@example.com", user.email])
    assert APIClient().post(CONFIRM_URL, confirmation("n@example.com")).status_code == 204
    assert stored_email(user) == "n@example.com"


def test_the_confirmation_mail_carries_the_configured_link(sent, user_client, settings):
    settings.EMAIL_CONFIRM_URL = "https://registry.example.com/email/confirm"

    sent(user_client.post, EMAIL_URL, {"current_password": PASSWORD, "email": "new@example.com"})

    link = confirmation("new@example.com")
    body = [m for m in mail.outbox if m.to == ["new@example.com"]][0].body
    assert f"https://registry.example.com/email/confirm?uid={link['uid']}&token={link['token']}" in body
