"""Every door that checks a password, and every lookup of users by name, follows one throttle policy: per client
address and per account, AUTH_THROTTLE_RATE each, answering 429 with Retry-After."""

from itertools import pairwise

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework import status

from accounts.tests.factories import PASSWORD, UserFactory
from projects.models import ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN_URL = reverse("admin:login")
ADMIN_PASSWORD_CHANGE_URL = reverse("admin:password_change")
PASSWORD_URL = reverse("auth-password")
TOKEN_URL = reverse("auth-token")


def _admin_login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        ADMIN_LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def _change_password(client, current: str):
    return client.post(PASSWORD_URL, {"current_password": current, "new_password": "a-new-long-passphrase"})


def test_password_change_is_throttled_against_guessing_the_current_password(settings, client_for):
    settings.AUTH_THROTTLE_RATE = "5/min"
    user = UserFactory()
    client = client_for(user)
    answers = [_change_password(client, f"guess-{n}").status_code for n in range(7)]
    assert answers == [400, 400, 400, 400, 400, 429, 429]
    response = _change_password(client, PASSWORD)
    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_is_throttled_per_account_across_addresses(settings, client_for):
    settings.AUTH_THROTTLE_RATE = "3/min"
    client = client_for(UserFactory())
    for n in range(3):
        client.post(PASSWORD_URL, {"current_password": "guess", "new_password": "x" * 20}, REMOTE_ADDR=f"10.0.0.{n}")
    response = client.post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": "x" * 20}, REMOTE_ADDR="10.0.0.99"
    )
    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS


def test_the_admin_login_is_throttled_and_then_refuses_even_the_right_password(settings, client):
    settings.AUTH_THROTTLE_RATE = "5/min"
    UserFactory(username="boss", is_staff=True)
    answers = [_admin_login(client, "boss", f"guess-{n}").status_code for n in range(5)]
    assert answers == [200, 200, 200, 200, 200]  # The login form again, with its error.
    response = _admin_login(client, "boss", PASSWORD)
    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert b"Too many login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_throttled_per_account_across_addresses(settings, client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    UserFactory(username="boss", email="boss@example.com", is_staff=True)
    for n in range(3):
        _admin_login(client, "boss", "guess", address=f"10.0.0.{n}")
    assert _admin_login(client, "boss@example.com", PASSWORD, address="10.0.0.99").status_code == 429


def test_the_admin_login_still_logs_in_below_the_limit(client):
    UserFactory(username="boss", is_staff=True)
    response = _admin_login(client, "boss", PASSWORD)
    assert response.status_code == status.HTTP_302_FOUND
    assert "_auth_user_id" in client.session


def test_api_logins_and_the_admin_login_share_one_count_per_account(settings, api_client, client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    UserFactory(username="boss", is_staff=True)
    for n in range(3):
        api_client.post(TOKEN_URL, {"username": "boss", "password": "guess"}, REMOTE_ADDR=f"10.0.0.{n}")
    assert _admin_login(client, "boss", PASSWORD, address="10.0.0.99").status_code == 429


def test_adding_members_by_email_is_throttled_like_logins(settings, client_for):
    settings.AUTH_THROTTLE_RATE = "4/min"
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    client = client_for(owner)
    url = reverse("project-member-list", args=[project.pk])
    answers = [
        client.post(url, {"user": f"probe{n}@example.com", "role": ProjectRole.VIEWER}).status_code for n in range(6)
    ]
    assert answers == [400, 400, 400, 400, 429, 429]
    target = UserFactory(email="real@example.com")
    response = client.post(url, {"user": target.email, "role": ProjectRole.VIEWER})
    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert not ProjectMembership.objects.exists()


def test_transfers_are_throttled_like_logins(settings, client_for):
    settings.AUTH_THROTTLE_RATE = "2/min"
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    client = client_for(owner)
    url = reverse("project-transfer", args=[project.pk])
    answers = [client.post(url, {"user": f"probe{n}@example.com"}).status_code for n in range(3)]
    assert answers == [400, 400, 429]


def _change_in_admin(client, current: str, new: str) -> int:
    body = {"old_password": current, "new_password1": new, "new_password2": new}
    return client.post(ADMIN_PASSWORD_CHANGE_URL, body).status_code


def test_the_admin_password_change_is_throttled_with_logins(settings, client):
    settings.AUTH_THROTTLE_RATE = "4/min"
    boss = UserFactory(username="boss", is_staff=True)
    client.force_login(boss)
    passwords = [PASSWORD, "second-long-passphrase", "third-long-passphrase"]

    answers = [_change_in_admin(client, current, new) for current, new in pairwise(passwords)]
    answers += [_change_in_admin(client, f"guess-{n}", "fourth-long-passphrase") for n in range(3)]
    answers.append(_change_in_admin(client, passwords[-1], "fourth-long-passphrase"))
    refused = client.post(ADMIN_PASSWORD_CHANGE_URL, {"old_password": passwords[-1]})

    assert answers == [302, 302, 200, 200, 429, 429]
    assert int(refused["Retry-After"]) > 0
    assert Client().post(TOKEN_URL, {"username": "boss", "password": passwords[-1]}).status_code == 429
    boss.refresh_from_db()
    assert boss.check_password(passwords[-1])
