"""The conventions every endpoint keeps: JSON errors, paging headers, security headers, limits on input."""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from django_q.tasks import async_task
from rest_framework import status

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_health_reports_ok_without_authentication(api_client):
    for path in ["/health", "/health/", "/healthcheck", "/healthcheck/"]:
        response = api_client.get(path)
        assert response.status_code == status.HTTP_200_OK
        assert response.json()["status"] == "ok"
        assert response.json()["database"] == "ok"
        assert response.json()["version"]


def test_health_reports_the_oldest_waiting_task_without_failing(api_client):
    assert api_client.get("/health").json()["queue"] == {"status": "ok", "queued": 0, "oldest_seconds": 0.0}
    waiting = [async_task("common.mail.mail_send", sync=False) for _ in range(2)]
    taken = async_task("common.mail.mail_send", sync=False)
    now = timezone.now()
    rows = list(OrmQ.objects.order_by("id"))
    assert len(rows) == len(waiting) + 1 and taken
    OrmQ.objects.filter(pk=rows[0].pk).update(lock=now - timedelta(minutes=30))
    OrmQ.objects.filter(pk=rows[1].pk).update(lock=now - timedelta(minutes=2))
    # A task a worker holds (its lease runs into the future) is not waiting.
    OrmQ.objects.filter(pk=rows[2].pk).update(lock=now + timedelta(minutes=1))

    response = api_client.get("/health")

    assert response.status_code == status.HTTP_200_OK
    queue = response.json()["queue"]
    assert (queue["status"], queue["queued"]) == ("ok", 2)
    assert 30 * 60 <= queue["oldest_seconds"] < 30 * 60 + 10


def test_health_stays_200_and_says_so_when_the_queue_cannot_be_read(api_client, monkeypatch):
    class UnreachableRedis:
        def queue_size(self):
            raise ConnectionError("Redis unreachable")

    monkeypatch.setattr("common.queue.queue_broker", UnreachableRedis)

    response = api_client.get("/health")

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["queue"] == {"status": "unavailable", "queued": None, "oldest_seconds": None}


def test_health_answers_503_while_the_database_does_not(api_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("registry.views.connection.cursor", broken_cursor)

    response = api_client.get("/health")

    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json()["status"] == "unavailable"
    assert response["Retry-After"] == "5"


def test_database_outage_on_an_api_route_is_a_clean_503(user_client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("accounts.views.UserViewSet.get_queryset", broken)

    response = user_client.get(reverse("user-list"))

    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json() == {"detail": "The database is unavailable. Try again shortly."}
    assert response["Retry-After"]


def test_root_names_the_service_and_links_the_docs(api_client):
    response = api_client.get("/")

    assert response.status_code == status.HTTP_200_OK
    assert response.json()["name"] == "Registry"
    assert response.json()["links"]["docs"].endswith("/docs")


@pytest.mark.parametrize("path", ["/schema", "/docs", "/redoc", "/docs/"])
def test_docs_are_served_without_authentication(api_client, path):
    assert api_client.get(path).status_code == status.HTTP_200_OK


def test_docs_load_their_assets_from_the_service_itself(api_client):
    page = api_client.get("/docs").content.decode()

    # Every script, style sheet and icon comes from this service: no address on another host.
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page) == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page


def test_schema_lists_every_account_route(api_client):
    paths = api_client.get("/schema", HTTP_ACCEPT="application/json").json()["paths"]

    for path in [
        "/users/",
        "/users/{id}/",
        "/users/me/",
        "/auth/token/",
        "/auth/token/refresh/",
        "/auth/token/verify/",
        "/auth/logout/",
        "/auth/password/",
        "/auth/password/reset/",
        "/auth/password/reset/confirm/",
        "/health/",
    ]:
        assert path in paths, path


def test_schema_offers_the_password_flow_for_the_authorize_button(api_client):
    schemes = api_client.get("/schema", HTTP_ACCEPT="application/json").json()["components"]["securitySchemes"]

    assert list(schemes) == ["login", "token"]
    assert schemes["login"]["flows"]["password"] == {"tokenUrl": "/auth/token", "scopes": {}}
    assert schemes["token"]["scheme"] == "bearer"


def test_unknown_route_is_a_json_404(api_client):
    response = api_client.get("/no/such/route")

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unhandled_error_is_a_json_500_without_traceback(user_client, monkeypatch):
    user_client.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("accounts.views.UserViewSet.get_queryset", broken)

    response = user_client.get(reverse("user-list"))

    assert response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR
    assert response.json() == {"detail": "Internal server error."}
    assert b"secret internals" not in response.content


def test_foreign_host_header_is_a_json_400(api_client):
    response = api_client.get("/health", HTTP_HOST="evil.example.com")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"detail": "Bad request."}


def test_security_headers_on_api_responses(user_client):
    response = user_client.get(reverse("user-list"))

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_oversized_body_is_413(user_client):
    body = json.dumps({"first_name": "x" * (1024 * 1024)})

    response = user_client.generic("PATCH", "/users/me", body, content_type="application/json")

    assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[" * 50_000 + "]" * 50_000,
        '{"first_name": "a\\u0000b"}',
        '{"first_name": "\\ud800"}',
        '{"age": NaN}',
        '{"age": Infinity}',
        "1" * 5000,
    ],
    ids=["malformed", "deep", "nul", "surrogate", "nan", "infinity", "huge-number"],
)
def test_hostile_json_is_a_400(user_client, user, body):
    response = user_client.generic("PATCH", "/users/me", body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json()
    user.refresh_from_db()
    assert "\x00" not in user.first_name


@pytest.mark.parametrize("body", ["null", "[]", '"x"', "3"])
def test_wrong_top_level_json_type_is_a_400(user_client, body):
    response = user_client.generic("PATCH", "/users/me", body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST


def test_unknown_content_type_is_415(user_client):
    response = user_client.generic("PATCH", "/users/me", "<xml/>", content_type="application/xml")

    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


def test_one_megabyte_password_is_a_fast_400(api_client):
    body = {"username": "bigpw", "email": "bigpw@example.com", "password": "x" * 1_000_000}

    response = api_client.post(reverse("user-list"), body, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "password" in response.json()


# Pagination ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def seven_users(db):
    return UserFactory.create_batch(7)


def test_list_is_a_plain_array_with_total_and_links(client_for, seven_users):
    response = client_for(seven_users[0]).get("/users/?limit=3&offset=3")

    assert isinstance(response.json(), list)
    assert [row["id"] for row in response.json()] == [user.pk for user in seven_users[3:6]]
    assert response["X-Total-Count"] == "7"
    links = response["Link"]
    assert 'rel="first"' in links and 'rel="prev"' in links and 'rel="next"' in links and 'rel="last"' in links
    assert "offset=6" in links


def test_first_page_has_no_prev_link_and_last_page_no_next(client_for, seven_users):
    first = client_for(seven_users[0]).get("/users/?limit=5")
    last = client_for(seven_users[0]).get("/users/?limit=5&offset=5")

    assert 'rel="prev"' not in first["Link"] and 'rel="next"' in first["Link"]
    assert 'rel="next"' not in last["Link"] and 'rel="prev"' in last["Link"]


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("", 7),
        ("?limit=2", 2),
        ("?limit=1000000000000000000000000000000", 7),
        ("?offset=1000000000000000000000000000000", 0),
        ("?offset=0", 7),
        ("?offset=6", 1),
    ],
)
def test_paging_values_clamp_and_run_past_the_end(client_for, seven_users, query, count):
    response = client_for(seven_users[0]).get(f"/users/{query}")

    assert response.status_code == status.HTTP_200_OK
    assert len(response.json()) == count
    assert response["X-Total-Count"] == "7"


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=-5", "?limit=abc", "?limit=", "?limit=1.5", "?offset=-1", "?offset=x", "?limit=٣"]
)
def test_junk_paging_values_are_400(client_for, seven_users, query):
    response = client_for(seven_users[0]).get(f"/users/{query}")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert {"limit", "offset"} & set(response.json())


def test_limit_is_clamped_to_100(client_for, user):
    UserFactory.create_batch(105)

    response = client_for(user).get("/users/?limit=500")

    assert len(response.json()) == 100
    assert response["X-Total-Count"] == "106"


@pytest.mark.parametrize("ordering", ["owner__password", "password", "email", "-nope", "id,password"])
def test_ordering_by_undeclared_fields_is_400(user_client, ordering):
    response = user_client.get(f"/users/?ordering={ordering}")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "ordering" in response.json()


def test_a_row_level_model_error_is_reported_as_non_field_errors(user_client, monkeypatch):
    def refuse(*args, **kwargs):
        raise DjangoValidationError("The row as a whole is not acceptable.")

    monkeypatch.setattr("accounts.services.user_update", refuse)

    response = user_client.patch("/users/me", {"first_name": "X"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"non_field_errors": ["The row as a whole is not acceptable."]}


def test_a_stale_token_on_an_open_route_is_a_documented_401(client_for, api_client):
    # Routes open to anyone still check credentials that are sent: a token whose account is gone answers 401, and the
    # schema says so for each of them.
    gone = UserFactory()
    client = client_for(gone)
    gone.delete()
    body = {"username": "newcomer", "email": "newcomer@example.com", "password": "a long passphrase 42"}
    answers = {
        ("post", "/users/"): client.post(reverse("user-list"), body, format="json").status_code,
        ("get", "/health/"): client.get(reverse("health")).status_code,
        ("get", "/"): client.get(reverse("root")).status_code,
    }
    assert set(answers.values()) == {status.HTTP_401_UNAUTHORIZED}, answers
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    for method, path in answers:
        assert "401" in schema["paths"][path][method]["responses"], (method, path)


def test_only_reads_document_paging_parameters(api_client):
    # A write that answers a list (recording metric points) takes no `limit` or `offset`; documenting them let a fuzzer
    # send a negative `limit` that the write rightly ignored.
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    paged_writes = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            if method != "get" and {"limit", "offset"} & names:
                paged_writes.append(f"{method} {path}")
    assert paged_writes == []
