"""Using a personal access token: Bearer and Basic, its scope, its end of life, and what it may never do."""

import base64
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import status

from accounts.models import User
from accounts.tests.factories import PASSWORD
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

SECRET = "reg_pat_" + "s3cr3t" * 7 + "x"
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def bearer(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def basic(user: str, password: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def token(user):
    return PersonalAccessTokenFactory(user=user, secret=SECRET, name="ci")


# Bearer and Basic ---------------------------------------------------------------------------------------------------


def test_bearer_token_reads_the_account(api_client, user, token):
    response = api_client.get("/users/me", **bearer())

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["username"] == user.username


@pytest.mark.parametrize("who", ["username", "email", "USERNAME", "EMAIL"])
def test_basic_with_username_or_email_and_the_token(api_client, user, token, who):
    name = {"username": user.username, "email": user.email}[who.lower()]
    name = name.upper() if who.isupper() else name

    response = api_client.get("/users/me", **basic(name, SECRET))

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["id"] == user.pk


def test_basic_with_someone_elses_username_is_401(api_client, token, other_user):
    response = api_client.get("/users/me", **basic(other_user.username, SECRET))

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.json() == {"detail": "Invalid username or personal access token."}


def test_basic_with_the_account_password_is_refused_without_checking_it(api_client, user, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the account password must not be checked on an API request")

    monkeypatch.setattr(User, "check_password", never)

    response = api_client.get("/users/me", **basic(user.username, PASSWORD))

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "detail": "HTTP Basic takes a personal access token as the password, never the account password. "
        "Create one at POST /auth/tokens."
    }


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {SECRET}x",
        "Bearer reg_pat_",
        f"Bearer {SECRET[:-1]}",
        f"bearer {SECRET.upper()}",
        f"Token {SECRET}",
        f"Bearer {SECRET} extra",
        "Bearer reg_pat_\u00e9",
    ],
)
def test_wrong_or_malformed_tokens_are_401(api_client, token, header):
    response = api_client.get("/users/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_jwt_still_works_beside_personal_access_tokens(user_client, token):
    assert user_client.get("/users/me").status_code == status.HTTP_200_OK


def test_a_token_works_on_list_and_detail_routes(api_client, user, token):
    experiment = ExperimentFactory(owner=user)

    assert api_client.get(reverse("experiment-list"), **bearer()).status_code == status.HTTP_200_OK
    assert api_client.get(reverse("experiment-detail", args=[experiment.pk]), **bearer()).status_code == 200
    assert api_client.get(reverse("personal-access-token-list"), **bearer()).status_code == status.HTTP_200_OK


def test_a_token_acts_only_as_its_user(api_client, token, other_user):
    theirs = ExperimentFactory(owner=other_user)

    response = api_client.patch(reverse("experiment-detail", args=[theirs.pk]), {"name": "mine now"}, **bearer())

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert Experiment.objects.get(pk=theirs.pk).name == theirs.name


# Scope × method -----------------------------------------------------------------------------------------------------


def _experiment_url(user) -> str:
    return reverse("experiment-detail", args=[ExperimentFactory(owner=user, name="exp").pk])


# (scope, method, URL maker, body, expected status)
MATRIX = [
    ("read", "get", lambda user: reverse("experiment-list"), None, 200),
    ("read", "head", lambda user: reverse("experiment-list"), None, 200),
    ("read", "get", _experiment_url, None, 200),
    ("read", "post", lambda user: reverse("experiment-list"), {"name": "new"}, 403),
    ("read", "put", _experiment_url, {"name": "replaced"}, 403),
    ("read", "patch", _experiment_url, {"name": "changed"}, 403),
    ("read", "delete", _experiment_url, None, 403),
    ("read", "post", lambda user: reverse("project-list"), {"name": "new"}, 403),
    ("read", "patch", lambda user: "/users/me", {"first_name": "Changed"}, 403),
    ("write", "get", lambda user: reverse("experiment-list"), None, 200),
    ("write", "head", lambda user: reverse("experiment-list"), None, 200),
    ("write", "get", _experiment_url, None, 200),
    ("write", "post", lambda user: reverse("experiment-list"), {"name": "new"}, 201),
    ("write", "put", _experiment_url, {"name": "replaced"}, 200),
    ("write", "patch", _experiment_url, {"name": "changed"}, 200),
    ("write", "delete", _experiment_url, None, 204),
    ("write", "post", lambda user: reverse("project-list"), {"name": "new"}, 201),
    ("write", "patch", lambda user: "/users/me", {"first_name": "Changed"}, 200),
]


@pytest.mark.parametrize(
    ("scope", "method", "url", "body", "expected"),
    MATRIX,
    ids=[f"{scope}-{method}-{n}" for n, (scope, method, _, _, _) in enumerate(MATRIX)],
)
def test_scope_by_method(api_client, user, scope, method, url, body, expected):
    PersonalAccessTokenFactory(user=user, scope=scope, secret=SECRET)
    target = url(user)
    before = (list(Experiment.objects.values()), User.objects.values().get(pk=user.pk))

    response = getattr(api_client, method)(target, body, format="json", **bearer())

    assert response.status_code == expected, response.content
    if expected == status.HTTP_403_FORBIDDEN:
        assert response.json() == {
            "detail": "This personal access token has the read scope, which allows only GET, HEAD and OPTIONS."
        }
        assert (list(Experiment.objects.values()), User.objects.values().get(pk=user.pk)) == before


def test_read_scope_applies_to_basic_too(api_client, user):
    PersonalAccessTokenFactory(user=user, scope="read", secret=SECRET)

    response = api_client.post(reverse("experiment-list"), {"name": "new"}, **basic(user.username, SECRET))

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert not Experiment.objects.exists()


# What no token may do -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["read", "write"])
def test_no_token_changes_the_password(api_client, user, scope):
    PersonalAccessTokenFactory(user=user, scope=scope, secret=SECRET)
    old_hash = user.password

    response = api_client.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "another-long-passphrase"}, **bearer()
    )

    assert response.status_code == status.HTTP_403_FORBIDDEN
    user.refresh_from_db()
    assert user.password == old_hash


@pytest.mark.parametrize("scope", ["read", "write"])
def test_no_token_deletes_the_account(api_client, user, scope):
    PersonalAccessTokenFactory(user=user, scope=scope, secret=SECRET)

    response = api_client.delete(reverse("user-detail", args=[user.pk]), **bearer())

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert User.objects.filter(pk=user.pk).exists()


def test_a_write_token_is_told_why_it_cannot_delete_the_account(api_client, user, token):
    response = api_client.delete(reverse("user-detail", args=[user.pk]), **basic(user.username, SECRET))

    assert response.json() == {"detail": "A personal access token cannot do this; log in with your password."}


def test_a_staff_token_deletes_no_account(api_client, staff_user, user):
    PersonalAccessTokenFactory(user=staff_user, secret=SECRET)

    response = api_client.delete(reverse("user-detail", args=[user.pk]), **bearer())

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert User.objects.filter(pk=user.pk).exists()


def test_a_password_login_still_deletes_the_account(user_client, user, token):
    assert user_client.delete(reverse("user-detail", args=[user.pk])).status_code == status.HTTP_204_NO_CONTENT


# End of life --------------------------------------------------------------------------------------------------------


def test_a_token_works_until_it_expires(api_client, user, time_machine):
    time_machine.move_to(T0, tick=False)
    PersonalAccessTokenFactory(user=user, secret=SECRET, expires_at=T0 + timedelta(days=90))

    time_machine.move_to(T0 + timedelta(days=90) - timedelta(seconds=1), tick=False)
    assert api_client.get("/users/me", **bearer()).status_code == status.HTTP_200_OK
    time_machine.move_to(T0 + timedelta(days=90), tick=False)
    response = api_client.get("/users/me", **bearer())

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "The personal access token has expired."}


def test_an_expired_token_is_refused_over_basic_too(api_client, user, time_machine):
    time_machine.move_to(T0, tick=False)
    PersonalAccessTokenFactory(user=user, secret=SECRET, expires_at=T0 + timedelta(days=1))
    time_machine.move_to(T0 + timedelta(days=2), tick=False)

    assert api_client.get("/users/me", **basic(user.username, SECRET)).status_code == status.HTTP_401_UNAUTHORIZED


def test_a_deactivated_users_token_is_401(api_client, user, token):
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.get("/users/me", **bearer())

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_deleted_users_token_is_401_and_gone(api_client, user, token):
    user.delete()

    response = api_client.get("/users/me", **bearer())

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert not PersonalAccessToken.objects.exists()


def test_a_password_change_leaves_tokens_working(user_client, api_client, user, token):
    changed = user_client.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "another-long-passphrase"}
    )

    assert changed.status_code == status.HTTP_204_NO_CONTENT
    assert api_client.get("/users/me", **bearer()).status_code == status.HTTP_200_OK


# Last use -----------------------------------------------------------------------------------------------------------


def test_last_use_is_recorded_at_most_once_a_minute(api_client, user, time_machine):
    time_machine.move_to(T0, tick=False)
    token = PersonalAccessTokenFactory(user=user, secret=SECRET)
    stamps, writes = [], []
    for seconds in [0, 1, 45, 60, 61, 62]:
        time_machine.move_to(T0 + timedelta(seconds=seconds), tick=False)
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get("/users/me", **bearer()).status_code == status.HTTP_200_OK
        writes.append(sum(query["sql"].startswith("UPDATE") for query in queries))
        stamps.append(PersonalAccessToken.objects.get(pk=token.pk).last_used_at)

    assert writes == [1, 0, 0, 0, 1, 0]
    assert stamps == [T0] * 4 + [T0 + timedelta(seconds=61)] * 2


def test_list_shows_when_a_token_was_last_used(client_for, api_client, user, time_machine):
    time_machine.move_to(T0, tick=False)
    PersonalAccessTokenFactory(user=user, secret=SECRET)
    api_client.get("/users/me", **bearer())

    response = client_for(user).get(reverse("personal-access-token-list"))

    assert [row["last_used_at"] for row in response.json()] == ["2030-01-01T12:00:00Z"]


# The secret stays secret --------------------------------------------------------------------------------------------


def test_the_secret_is_in_no_table_no_query_no_log_and_no_mail(
    user_client, api_client, user, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        created = user_client.post(reverse("personal-access-token-list"), {"name": "ci"})
        secret = created.json()["token"]
        random_part = secret.removeprefix("reg_pat_")
        api_client.get("/users/me", **bearer(secret))
        api_client.get("/users/me", **basic(user.username, secret))
        api_client.post(reverse("experiment-list"), {"name": "x"}, **bearer(secret + "tampered"))
        api_client.get("/users/me", **basic("someone-else", secret))
        user_client.delete(reverse("personal-access-token-detail", args=[created.json()["id"]]))
        api_client.get("/users/me", **bearer(secret))

    assert created.status_code == status.HTTP_201_CREATED
    assert caplog.records  # The refusals above are logged, without the token.
    assert random_part not in caplog.text
    assert not [query["sql"] for query in queries if random_part in query["sql"]]
    assert all(random_part not in message.body + message.subject for message in mail.outbox)
    assert len(mail.outbox) == 1


def test_the_database_holds_a_digest_not_the_secret(user_client):
    secret = user_client.post(reverse("personal-access-token-list"), {"name": "ci"}).json()["token"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tokens_personalaccesstoken")
        (row,) = cursor.fetchall()

    stored = " ".join(str(value) for value in row)
    assert secret.removeprefix("reg_pat_") not in stored
    assert secret[:16] in stored  # The display prefix, and nothing more of the secret.
    assert secret.removeprefix("reg_pat_")[8:16] not in stored
