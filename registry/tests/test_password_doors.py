"""Every door that checks a password, and every lookup of users by name, follows one throttle policy: per client
address and per account, AUTH_THROTTLE_RATE each, answering 429 with Retry-After. The password doors count failures
only, and a client that has logged in to an account before (its device cookie) is counted apart from everyone else."""

from itertools import pairwise

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework import status

from accounts.tests.factories import PASSWORD, UserFactory
from common.throttles import LOGIN_THROTTLES, Attempt
from projects.models import ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN_URL = reverse("admin:login")
ADMIN_PASSWORD_CHANGE_URL = reverse("admin:password_change")
BROWSABLE_LOGIN_URL = reverse("rest_framework:login")
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


def test_an_email_change_is_throttled_with_the_password_doors(settings, client_for, api_client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    user = UserFactory()
    client = client_for(user)
    email_url = reverse("auth-email")

    answers = [
        client.post(email_url, {"current_password": f"guess-{n}", "email": "new@example.com"}).status_code
        for n in range(4)
    ]
    right = client.post(email_url, {"current_password": PASSWORD, "email": "new@example.com"})
    login = api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")

    assert answers == [400, 400, 400, 429]
    assert (right.status_code, login.status_code) == (429, 429)
    user.refresh_from_db()
    assert user.pending_email == ""


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


# Failures only, and device cookies ----------------------------------------------------------------------------------

# Each login door: its URL, its answer to the right password, and its answer to a wrong one (the form again).
LOGIN_DOORS = {
    "api": (TOKEN_URL, 200, 401),
    "admin": (ADMIN_LOGIN_URL, 302, 200),
    "browsable api": (BROWSABLE_LOGIN_URL, 302, 200),
}


def _log_in(door: str, client, username: str, password: str, address: str) -> int:
    url = LOGIN_DOORS[door][0]
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address).status_code


@pytest.mark.parametrize("door", LOGIN_DOORS)
def test_successful_logins_from_one_address_are_not_counted(settings, door):
    settings.AUTH_THROTTLE_RATE = "3/min"
    _, ok, _ = LOGIN_DOORS[door]
    for name in ["alice", "bob"]:
        UserFactory(username=name, is_staff=True)
    # A team behind one address, each login from a browser or client that has not logged in before.
    answers = [_log_in(door, Client(), name, PASSWORD, "10.0.0.1") for name in ["alice", "bob"] * 3]
    assert answers == [ok, ok, ok, ok, ok, ok]


@pytest.mark.parametrize("door", LOGIN_DOORS)
def test_a_client_the_owner_logged_in_from_before_is_not_locked_out_by_failures_elsewhere(settings, door):
    settings.AUTH_THROTTLE_RATE = "10/min"
    _, ok, wrong = LOGIN_DOORS[door]
    UserFactory(username="alice", is_staff=True)
    owners_client, stranger, new_client = Client(), Client(), Client()
    assert _log_in(door, owners_client, "alice", PASSWORD, "10.0.0.1") == ok

    guesses = [_log_in(door, stranger, "alice", f"guess-{n}", "192.0.2.66") for n in range(11)]

    assert guesses == [wrong, wrong, wrong, wrong, wrong, wrong, wrong, wrong, wrong, wrong, 429]
    assert _log_in(door, owners_client, "alice", PASSWORD, "10.0.0.1") == ok
    assert _log_in(door, new_client, "alice", PASSWORD, "10.0.0.2") == 429


def _lock_out(username: str) -> None:
    stranger = Client()
    for n in range(10):
        _log_in("api", stranger, username, f"guess-{n}", "192.0.2.66")


def test_another_accounts_device_cookie_does_not_lift_a_lockout(settings):
    settings.AUTH_THROTTLE_RATE = "10/min"
    UserFactory(username="alice")
    UserFactory(username="bob")
    bobs_client = Client()
    assert _log_in("api", bobs_client, "bob", PASSWORD, "10.0.0.1") == 200
    _lock_out("alice")

    assert _log_in("api", bobs_client, "alice", PASSWORD, "10.0.0.1") == 429
    assert _log_in("api", bobs_client, "bob", PASSWORD, "10.0.0.1") == 200


@pytest.mark.parametrize("forgery", ["unsigned", "signed for another account"])
def test_a_forged_or_tampered_device_cookie_is_ignored(settings, forgery):
    settings.AUTH_THROTTLE_RATE = "10/min"
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    client = Client()
    assert _log_in("api", client, "bob", PASSWORD, "10.0.0.1") == 200
    bobs_cookie = client.cookies["registry_device"].value
    assert bobs_cookie.startswith(f"{bob.pk}:")
    forged = {
        "unsigned": f"{alice.pk}:{bobs_cookie.split(':')[1]}",
        "signed for another account": bobs_cookie.replace(f"{bob.pk}:", f"{alice.pk}:", 1),
    }[forgery]
    client.cookies["registry_device"] = forged
    _lock_out("alice")

    assert _log_in("api", client, "alice", PASSWORD, "10.0.0.1") == 429


def test_a_device_that_fails_too_often_is_refused_for_a_while_without_locking_the_account(settings, time_machine):
    settings.AUTH_THROTTLE_RATE = "3/min"
    time_machine.move_to("2030-01-01 12:00:00+00:00", tick=False)
    UserFactory(username="alice")
    device = Client()
    answers = [
        _log_in("api", device, "alice", password, "10.0.0.1") for password in [PASSWORD, "a", "b", "c", PASSWORD]
    ]
    elsewhere = _log_in("api", Client(), "alice", PASSWORD, "10.0.0.2")
    time_machine.move_to("2030-01-01 12:01:01+00:00", tick=False)
    later = _log_in("api", device, "alice", PASSWORD, "10.0.0.1")

    assert answers == [200, 401, 401, 401, 429]
    assert (elsewhere, later) == (200, 200)


@pytest.mark.parametrize(("secure", "marked_secure"), [(False, ""), (True, True)])
def test_only_a_successful_login_sets_the_device_cookie_httponly_and_lax(client, secure, marked_secure):
    UserFactory(username="alice")
    wrong = client.post(TOKEN_URL, {"username": "alice", "password": "wrong"}, secure=secure)
    right = client.post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, secure=secure)

    assert "registry_device" not in wrong.cookies
    cookie = right.cookies["registry_device"]
    assert (cookie["httponly"], cookie["samesite"], cookie["secure"], cookie["path"]) == (
        True,
        "Lax",
        marked_secure,
        "/",
    )


def test_an_attempt_holds_its_slot_until_it_succeeds(settings, rf):
    settings.AUTH_THROTTLE_RATE = "2/min"
    UserFactory(username="alice")
    # Three attempts in flight at once (in as many workers): the third is refused before any outcome is known.
    in_flight = [Attempt(rf.post(TOKEN_URL, {"username": "alice"}), LOGIN_THROTTLES) for _ in range(3)]
    refused = [attempt.refusal() is not None for attempt in in_flight]
    in_flight[0].succeeded()
    refused_after_a_success = Attempt(rf.post(TOKEN_URL, {"username": "alice"}), LOGIN_THROTTLES).refusal() is not None

    assert refused == [False, False, True]
    assert refused_after_a_success is False


def _change_in_admin(client, current: str, new: str) -> int:
    body = {"old_password": current, "new_password1": new, "new_password2": new}
    return client.post(ADMIN_PASSWORD_CHANGE_URL, body).status_code


def test_the_admin_password_change_counts_wrong_current_passwords_with_logins(settings, client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    boss = UserFactory(username="boss", is_staff=True)
    client.force_login(boss)
    passwords = [PASSWORD, "second-long-passphrase", "third-long-passphrase"]

    answers = [_change_in_admin(client, current, new) for current, new in pairwise(passwords)]
    answers += [_change_in_admin(client, f"guess-{n}", "fourth-long-passphrase") for n in range(4)]
    answers.append(_change_in_admin(client, passwords[-1], "fourth-long-passphrase"))
    refused = client.post(ADMIN_PASSWORD_CHANGE_URL, {"old_password": passwords[-1]})

    assert answers == [302, 302, 200, 200, 200, 429, 429]
    assert int(refused["Retry-After"]) > 0
    assert Client().post(TOKEN_URL, {"username": "boss", "password": passwords[-1]}).status_code == 429
    boss.refresh_from_db()
    assert boss.check_password(passwords[-1])
