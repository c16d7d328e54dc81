import pytest
from django.core import mail
from django.urls import reverse
from django_q.models import Schedule
from rest_framework import status

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_USER = {"username": "alice", "email": "alice@example.com", "password": "a-long-enough-passphrase"}


# Registration -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/", "/users", "/auth/register", "/auth/register/"])
def test_anyone_can_register_on_every_registration_path(api_client, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(path, NEW_USER, format="json")

    assert response.status_code == status.HTTP_201_CREATED
    user = User.objects.get(username="alice")
    assert response["Location"].endswith(reverse("user-detail", args=[user.pk]))
    assert response.data["email"] == "alice@example.com"
    assert "password" not in response.data
    assert user.check_password(NEW_USER["password"])
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]


def test_registration_response_carries_every_documented_field(api_client):
    response = api_client.post(reverse("user-list"), {**NEW_USER, "first_name": "Alice", "last_name": "Liddell"})

    assert set(response.data) == {
        "id",
        "username",
        "email",
        "pending_email",
        "first_name",
        "last_name",
        "full_name",
        "age",
        "is_active",
        "is_staff",
        "date_joined",
        "updated_at",
    }
    assert response.data["full_name"] == "Alice Liddell"


def test_welcome_email_waits_for_the_commit(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_client.post(reverse("user-list"), NEW_USER)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_the_welcome_mail_says_what_to_do_next_with_links_to_this_site(
    api_client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://registry.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(reverse("user-list"), NEW_USER)
    (message,) = mail.outbox
    assert message.subject == "Welcome to Registry"
    assert message.to == ["alice@example.com"]
    assert message.body == (
        "Hello alice,\n\n"
        "your Registry account is ready. What to do next:\n\n"
        "- Sign in to the web UI to see projects and runs: https://registry.example.com/ui/\n"
        "- Make a personal access token for your training code on the tokens page: https://registry.example.com/ui/tokens\n"
        "- Point MLflow's client at Registry, and log runs as you do today:\n\n"
        "    export MLFLOW_TRACKING_URI=https://registry.example.com\n"
        "    export MLFLOW_TRACKING_TOKEN=<your token>\n\n"
        "The README's quick start walks through it step by step.\n"
    )


def test_failing_mail_server_does_not_fail_registration(api_client, monkeypatch, django_capture_on_commit_callbacks):
    def broken_send_mail(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("common.mail.send_mail", broken_send_mail)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("user-list"), NEW_USER)

    assert response.status_code == status.HTTP_201_CREATED
    assert User.objects.filter(username="alice").exists()
    # The worker tries again later.
    (retry,) = Schedule.objects.filter(func="common.mail.mail_send")
    assert "'attempt': 2" in retry.kwargs and "alice@example.com" in retry.kwargs


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "ALICE"}, "username"),
        ({"email": "ALICE@Example.com"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "password"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"username": "bad name!"}, "username"),
        ({"username": ""}, "username"),
        ({"age": 151}, "age"),
        ({"age": -1}, "age"),
        ({"age": 10**30}, "detail"),  # Beyond 64 bits: refused by the JSON parser.
        ({"age": "old"}, "age"),
        ({"email": None}, "email"),
    ],
)
def test_invalid_registration_answers_400_with_the_field(api_client, change, field):
    UserFactory(username="alice", email="alice@example.com")

    body = {**NEW_USER, "username": "newcomer", "email": "new@example.com", **change}
    response = api_client.post(reverse("user-list"), body, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert field in response.data
    assert User.objects.count() == 1


def test_password_similar_to_username_is_refused(api_client):
    body = {**NEW_USER, "username": "quartermaster", "password": "quartermaster1"}

    response = api_client.post(reverse("user-list"), body)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "password" in response.data


def test_registration_cannot_make_staff_or_superuser(api_client):
    body = {**NEW_USER, "is_staff": True, "is_superuser": True, "is_active": False, "id": 999}

    response = api_client.post(reverse("user-list"), body, format="json")

    assert response.status_code == status.HTTP_201_CREATED
    user = User.objects.get(username="alice")
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.pk != 999


def test_closed_registration_refuses_anonymous_and_ordinary_users(settings, api_client, user_client):
    settings.REGISTRATION_OPEN = False

    assert api_client.post(reverse("user-list"), NEW_USER).status_code == status.HTTP_401_UNAUTHORIZED
    assert user_client.post(reverse("user-list"), NEW_USER).status_code == status.HTTP_403_FORBIDDEN
    assert not User.objects.filter(username="alice").exists()


def test_closed_registration_lets_staff_create_users(settings, client_for, staff_user):
    settings.REGISTRATION_OPEN = False

    response = client_for(staff_user).post(reverse("user-list"), NEW_USER)

    assert response.status_code == status.HTTP_201_CREATED


def test_registration_is_throttled_per_address(settings, api_client):
    settings.AUTH_THROTTLE_RATE = "3/min"
    for n in range(3):
        body = {**NEW_USER, "username": f"user-{n}", "email": f"u{n}@example.com"}
        assert api_client.post(reverse("user-list"), body).status_code == status.HTTP_201_CREATED

    response = api_client.post(reverse("user-list"), {**NEW_USER, "username": "late", "email": "late@example.com"})

    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert not User.objects.filter(username="late").exists()


# Reading users ------------------------------------------------------------------------------------------------------


def test_anonymous_gets_401_with_bearer_challenge(api_client, user):
    for url in [reverse("user-list"), reverse("user-detail", args=[user.pk]), reverse("user-me"), reverse("me")]:
        response = api_client.get(url)
        assert response.status_code == status.HTTP_401_UNAUTHORIZED
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_list_shows_users_and_hides_other_peoples_email(user_client, user, other_user):
    response = user_client.get(reverse("user-list"))

    assert response.status_code == status.HTTP_200_OK
    assert response["X-Total-Count"] == "2"
    rows = {row["id"]: row for row in response.data}
    assert rows[user.pk]["email"] == user.email
    assert "email" not in rows[other_user.pk]


def test_staff_sees_every_email(client_for, staff_user, other_user):
    response = client_for(staff_user).get(reverse("user-detail", args=[other_user.pk]))

    assert response.data["email"] == other_user.email


def test_no_response_carries_a_password(user_client, user):
    for url in [reverse("user-list"), reverse("user-detail", args=[user.pk]), reverse("me")]:
        body = user_client.get(url).content.decode()
        assert "password" not in body
        assert user.password not in body


def test_retrieve_missing_user_is_404(user_client):
    response = user_client.get(reverse("user-detail", args=[999999]))

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("url", ["/users/me", "/users/me/", "/me", "/me/"])
def test_me_returns_the_caller(user_client, user, url):
    response = user_client.get(url)

    assert response.status_code == status.HTTP_200_OK
    assert response.data["id"] == user.pk
    assert response.data["email"] == user.email


def test_list_orders_and_rejects_unknown_ordering(user_client, user):
    UserFactory(username="aaa")

    assert [row["username"] for row in user_client.get("/users/?ordering=username").data][0] == "aaa"
    response = user_client.get("/users/?ordering=password")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "ordering" in response.data


# Changing users -----------------------------------------------------------------------------------------------------


def test_user_patches_own_profile(user_client, user):
    response = user_client.patch(reverse("user-detail", args=[user.pk]), {"first_name": "Ada", "age": 36})

    assert response.status_code == status.HTTP_200_OK
    user.refresh_from_db()
    assert (user.first_name, user.age, response.data["full_name"]) == ("Ada", 36, f"Ada {user.last_name}")


def test_user_patches_self_through_me(user_client, user):
    response = user_client.patch("/users/me/", {"last_name": "Lovelace"})

    assert response.status_code == status.HTTP_200_OK
    user.refresh_from_db()
    assert user.last_name == "Lovelace"


def test_put_replaces_the_profile(user_client, user):
    body = {"username": "renamed", "email": user.email.upper(), "first_name": "", "last_name": ""}

    response = user_client.put(reverse("user-detail", args=[user.pk]), body)

    assert response.status_code == status.HTTP_200_OK
    user.refresh_from_db()
    assert (user.username, user.first_name) == ("renamed", "")


def test_nobody_makes_themself_staff_superuser_or_changes_password_by_patch(user_client, user):
    old_hash = user.password
    body = {"is_staff": True, "is_superuser": True, "is_active": False, "password": "x", "id": 12345}

    response = user_client.patch(reverse("user-detail", args=[user.pk]), body, format="json")

    assert response.status_code == status.HTTP_200_OK
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.is_active, user.password, user.pk) == (
        False,
        False,
        True,
        old_hash,
        response.data["id"],
    )


def test_username_change_to_a_case_variant_of_another_is_400(user_client, user, other_user):
    response = user_client.patch(reverse("user-detail", args=[user.pk]), {"username": other_user.username.upper()})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "username" in response.data


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_user_gets_403_on_write_and_nothing_changes(other_client, user, method):
    before = User.objects.values().get(pk=user.pk)
    body = {"username": "hijacked", "email": "hijack@example.com"}

    response = getattr(other_client, method)(reverse("user-detail", args=[user.pk]), body)

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert User.objects.values().get(pk=user.pk) == before


def test_staff_can_change_and_delete_another_user(client_for, staff_user, user):
    client = client_for(staff_user)

    assert client.patch(reverse("user-detail", args=[user.pk]), {"first_name": "Z"}).status_code == 200
    assert client.delete(reverse("user-detail", args=[user.pk])).status_code == status.HTTP_204_NO_CONTENT
    assert not User.objects.filter(pk=user.pk).exists()


def test_user_deletes_themself_and_their_token_stops_working(user_client, user):
    response = user_client.delete(reverse("user-detail", args=[user.pk]))

    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not User.objects.filter(pk=user.pk).exists()
    assert user_client.get(reverse("me")).status_code == status.HTTP_401_UNAUTHORIZED


def test_write_to_missing_user_is_404(user_client):
    assert user_client.patch(reverse("user-detail", args=[999999]), {}).status_code == status.HTTP_404_NOT_FOUND


def test_wrong_method_is_405_json(user_client):
    response = user_client.delete(reverse("user-list"))

    assert response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED
    assert "detail" in response.json()


# Tokens -------------------------------------------------------------------------------------------------------------


def login(client, username, password=PASSWORD, **kwargs):
    return client.post("/auth/token", {"username": username, "password": password}, **kwargs)


@pytest.mark.parametrize("path", ["/auth/token", "/auth/token/", "/login", "/login/"])
def test_login_with_form_and_json_on_every_path(api_client, user, path):
    form = api_client.post(path, {"username": user.username, "password": PASSWORD}, format="multipart")
    urlencoded = api_client.generic(
        "POST",
        path,
        f"username={user.username}&password={PASSWORD}&grant_type=password",
        content_type="application/x-www-form-urlencoded",
    )
    json_body = api_client.post(path, {"username": user.username, "password": PASSWORD}, format="json")

    for response in (form, urlencoded, json_body):
        assert response.status_code == status.HTTP_200_OK
        assert set(response.data) == {"access", "refresh", "access_token", "token_type", "expires_in"}
        assert response.data["token_type"] == "bearer"
        assert response.data["expires_in"] == 15 * 60
        assert response.data["access_token"] == response.data["access"]


def test_login_by_email_in_any_case(api_client, user):
    response = login(api_client, user.email.upper())

    assert response.status_code == status.HTTP_200_OK


def test_login_by_username_in_any_case(api_client, user):
    assert login(api_client, user.username.upper()).status_code == status.HTTP_200_OK


def test_access_token_works_as_bearer(api_client, user):
    token = login(api_client, user.username).data["access"]

    response = api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.data["id"] == user.pk


def test_login_gives_one_answer_for_wrong_password_unknown_user_and_inactive_user(api_client, user):
    UserFactory(username="sleeper", is_active=False)

    answers = [
        login(api_client, user.username, "wrong-password"),
        login(api_client, "nobody-at-all"),
        login(api_client, "sleeper"),
    ]

    assert {response.status_code for response in answers} == {status.HTTP_401_UNAUTHORIZED}
    assert len({response.content for response in answers}) == 1


def test_login_missing_fields_is_400(api_client):
    response = api_client.post("/auth/token", {}, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert {"username", "password"} <= set(response.data)


def test_login_ignores_a_stale_authorization_header(api_client, user):
    response = login(api_client, user.username, HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == status.HTTP_200_OK


def test_login_is_throttled_per_address(settings, api_client, user):
    settings.AUTH_THROTTLE_RATE = "3/min"
    for _ in range(3):
        login(api_client, user.username, "wrong")

    response = login(api_client, user.username)

    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0


def test_a_forged_forwarded_for_header_does_not_escape_the_address_throttle(settings, api_client):
    settings.AUTH_THROTTLE_RATE = "2/min"
    for n in range(2):
        login(api_client, f"someone-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = login(api_client, "someone-else", "wrong", HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS


def test_login_is_throttled_per_username_across_addresses(settings, api_client, user):
    settings.AUTH_THROTTLE_RATE = "3/min"
    for n in range(3):
        login(api_client, user.username.upper(), "wrong", REMOTE_ADDR=f"10.0.0.{n}")

    response = login(api_client, user.username, REMOTE_ADDR="10.0.0.99")

    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS


def test_refresh_rotates_and_blacklists_the_old_token(api_client, user):
    old = login(api_client, user.username).data["refresh"]

    response = api_client.post("/auth/token/refresh", {"refresh": old})

    assert response.status_code == status.HTTP_200_OK
    assert response.data["refresh"] != old
    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {response.data['access']}").status_code == 200
    reused = api_client.post("/auth/token/refresh", {"refresh": old})
    assert reused.status_code == status.HTTP_401_UNAUTHORIZED
    assert api_client.post("/auth/token/refresh", {"refresh": response.data["refresh"]}).status_code == 200


@pytest.mark.parametrize("token", ["junk", "", "a.b.c"])
def test_refresh_with_bad_token_is_401_or_400(api_client, token):
    response = api_client.post("/auth/token/refresh", {"refresh": token})

    expected = status.HTTP_400_BAD_REQUEST if token == "" else status.HTTP_401_UNAUTHORIZED
    assert response.status_code == expected


def test_access_token_is_refused_by_refresh(api_client, user):
    access = login(api_client, user.username).data["access"]

    assert api_client.post("/auth/token/refresh", {"refresh": access}).status_code == status.HTTP_401_UNAUTHORIZED


def test_refresh_token_is_refused_as_access_token(api_client, user):
    refresh = login(api_client, user.username).data["refresh"]

    response = api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert response.status_code == status.HTTP_401_UNAUTHORIZED


def test_verify(api_client, user):
    access = login(api_client, user.username).data["access"]

    assert api_client.post("/auth/token/verify", {"token": access}).status_code == status.HTTP_200_OK
    assert api_client.post("/auth/token/verify", {"token": access + "x"}).status_code == 401


def _change_password(user):
    user.set_password("another-long-passphrase")
    user.save()


def _deactivate(user):
    User.objects.filter(pk=user.pk).update(is_active=False)


def _delete(user):
    User.objects.filter(pk=user.pk).delete()


@pytest.mark.parametrize("what_happened", [_change_password, _deactivate, _delete])
def test_verify_refuses_an_access_token_that_authentication_refuses(api_client, user, what_happened):
    access = login(api_client, user.username).data["access"]
    what_happened(user)

    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    assert api_client.post("/auth/token/verify", {"token": access}).status_code == 401


@pytest.mark.parametrize("what_happened", [_change_password, _deactivate, _delete])
def test_verify_refuses_a_refresh_token_that_refresh_refuses(api_client, user, what_happened):
    refresh = login(api_client, user.username).data["refresh"]
    what_happened(user)

    assert api_client.post("/auth/token/verify", {"token": refresh}).status_code == 401
    assert api_client.post("/auth/token/refresh", {"refresh": refresh}).status_code == 401


def test_verify_answers_401_for_a_blacklisted_refresh_token(api_client, user):
    refresh = login(api_client, user.username).data["refresh"]
    assert api_client.post("/auth/token/verify", {"token": refresh}).status_code == status.HTTP_200_OK
    api_client.post("/auth/logout", {"refresh": refresh})

    response = api_client.post("/auth/token/verify", {"token": refresh})

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.json()["code"] == "token_not_valid"


def test_logout_blacklists_the_refresh_token(api_client, user):
    refresh = login(api_client, user.username).data["refresh"]

    assert api_client.post("/auth/logout", {"refresh": refresh}).status_code == status.HTTP_204_NO_CONTENT
    assert api_client.post("/auth/token/refresh", {"refresh": refresh}).status_code == 401
    assert api_client.post("/auth/logout", {"refresh": refresh}).status_code == 401
    assert api_client.post("/auth/logout", {"refresh": "junk"}).status_code == 401


def test_tokens_expire(api_client, user, time_machine):
    time_machine.move_to("2030-01-01 12:00:00+00:00", tick=False)
    tokens = login(api_client, user.username).data

    time_machine.move_to("2030-01-01 12:16:00+00:00", tick=False)
    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    assert api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]}).status_code == 200

    time_machine.move_to("2030-01-08 12:01:00+00:00", tick=False)
    assert api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]}).status_code == 401


def test_deactivated_user_loses_access_at_once(api_client, user):
    tokens = login(api_client, user.username).data
    user.is_active = False
    user.save()

    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    assert api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]}).status_code == 401


def test_deleted_user_tokens_stop_working(api_client, user):
    tokens = login(api_client, user.username).data
    user.delete()

    assert api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    assert api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]}).status_code == 401


# Password change ----------------------------------------------------------------------------------------------------


def test_password_change_revokes_every_token(api_client, user):
    first = login(api_client, user.username).data
    second = login(api_client, user.username).data
    auth = {"HTTP_AUTHORIZATION": f"Bearer {first['access']}"}

    response = api_client.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "an-entirely-new-passphrase"}, **auth
    )

    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert api_client.get(reverse("me"), **auth).status_code == 401
    for tokens in (first, second):
        assert api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]}).status_code == 401
    assert login(api_client, user.username).status_code == 401
    assert login(api_client, user.username, "an-entirely-new-passphrase").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong", "new_password": "an-entirely-new-passphrase"}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "123"}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
    ],
)
def test_password_change_refuses_bad_input(user_client, user, body, field):
    response = user_client.post("/auth/password", body)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert field in response.data
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_needs_authentication(api_client):
    response = api_client.post("/auth/password", {"current_password": "a", "new_password": "b"})

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_login_throttle_holds_on_the_default_database_cache(settings, api_client, user):
    # The default cache of a deployment without Redis: the table the migrations create.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "registry_cache"}
    }
    settings.AUTH_THROTTLE_RATE = "3/min"
    answers = [login(api_client, user.username, "wrong").status_code for _ in range(5)]

    assert answers == [401, 401, 401, 429, 429]


def test_throttle_frees_a_slot_when_its_window_passes(settings, api_client, user, time_machine):
    settings.AUTH_THROTTLE_RATE = "2/min"
    time_machine.move_to("2030-01-01 12:00:00+00:00", tick=False)
    login(api_client, user.username, "wrong")
    time_machine.move_to("2030-01-01 12:00:30+00:00", tick=False)
    login(api_client, user.username, "wrong")
    throttled = login(api_client, user.username)

    time_machine.move_to("2030-01-01 12:01:01+00:00", tick=False)
    freed = login(api_client, user.username)

    assert throttled.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(throttled["Retry-After"]) == 30
    assert freed.status_code == status.HTTP_200_OK


def test_registrations_and_logins_are_counted_apart(settings, api_client, user):
    settings.AUTH_THROTTLE_RATE = "2/min"
    for n in range(2):
        body = {**NEW_USER, "username": f"apart-{n}", "email": f"apart{n}@example.com"}
        assert api_client.post(reverse("user-list"), body).status_code == status.HTTP_201_CREATED

    answers = [login(api_client, user.username, "wrong").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
