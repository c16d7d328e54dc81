"""Hostile input: other people's objects, forged tokens, mass assignment, leaks and pathological bodies."""

import base64
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings
from django.forms.models import model_to_dict
from django.test.client import FakePayload
from django.urls import get_resolver, reverse
from rest_framework import status
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from loggedmodels.models import LoggedModel
from loggedmodels.tests.factories import LoggedModelFactory
from modelregistry.models import ModelVersion, RegisteredModel, RegisteredModelAlias
from modelregistry.tests.factories import AliasFactory, ModelVersionFactory, RegisteredModelFactory
from projects.models import Project, ProjectInvitation, ProjectMembership
from projects.tests.factories import ProjectFactory, ProjectInvitationFactory, ProjectMembershipFactory
from registry.tests.support import snapshot
from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db


# Every detail route refuses a caller without access ---------------------------------------------------------------


def _user(owner):
    return {"pk": owner.pk}, User, owner.pk


def _project(owner):
    project = ProjectFactory(owner=owner)
    return {"pk": project.pk}, Project, project.pk


def _project_members(owner):
    project = ProjectFactory(owner=owner)
    return {"project_pk": project.pk}, Project, project.pk


def _experiment(owner):
    experiment = ExperimentFactory(owner=owner, project=ProjectFactory(owner=owner))
    return {"pk": experiment.pk}, Experiment, experiment.pk


def _experiment_metrics(owner):
    experiment = ExperimentFactory(owner=owner, project=ProjectFactory(owner=owner))
    return {"experiment_pk": experiment.pk}, Experiment, experiment.pk


def _experiment_artifact(owner):
    experiment = ExperimentFactory(owner=owner, project=ProjectFactory(owner=owner))
    return {"experiment_pk": experiment.pk, "path": "a.txt"}, Experiment, experiment.pk


def _run_artifact(owner):
    experiment = ExperimentFactory(owner=owner, project=ProjectFactory(owner=owner))
    return {"path": f"{experiment.project_id}/{experiment.run_uuid}/artifacts/a.txt"}, Experiment, experiment.pk


def _logged_model(owner):
    model = LoggedModelFactory(project=ProjectFactory(owner=owner), tags={"k": "v"})
    return {"model_id": model.model_id}, LoggedModel, model.pk


def _project_logged_model(owner):
    model = LoggedModelFactory(project=ProjectFactory(owner=owner))
    return {"project_pk": model.project_id, "model_id": model.model_id}, LoggedModel, model.pk


def _logged_model_tag(owner):
    kwargs, model, pk = _logged_model(owner)
    return {**kwargs, "tag_key": "k"}, model, pk


def _project_experiments(owner):
    project = ProjectFactory(owner=owner)
    return {"project_pk": project.pk}, Project, project.pk


def _membership(owner):
    membership = ProjectMembershipFactory(project=ProjectFactory(owner=owner))
    return {"project_pk": membership.project_id, "user_id": membership.user_id}, ProjectMembership, membership.pk


def _project_invitation(owner):
    invitation = ProjectInvitationFactory(project=ProjectFactory(owner=owner))
    return {"project_pk": invitation.project_id, "pk": invitation.pk}, ProjectInvitation, invitation.pk


def _invitation_to(invitee):
    invitation = ProjectInvitationFactory(invitee=invitee)
    return {"pk": invitation.pk}, ProjectInvitation, invitation.pk


def _token(owner):
    token = PersonalAccessTokenFactory(user=owner)
    return {"pk": token.pk}, PersonalAccessToken, token.pk


def _registered_model(owner):
    model = RegisteredModelFactory(project=ProjectFactory(owner=owner))
    return {"pk": model.pk}, RegisteredModel, model.pk


def _registered_model_alias(owner):
    alias = AliasFactory(model_version__registered_model=RegisteredModelFactory(project=ProjectFactory(owner=owner)))
    return {"pk": alias.registered_model_id, "alias": alias.alias}, RegisteredModelAlias, alias.pk


def _project_registered_models(owner):
    return {"project_pk": ProjectFactory(owner=owner).pk}, Project, Project.objects.get(owner=owner).pk


def _model_version(owner):
    version = ModelVersionFactory(registered_model=RegisteredModelFactory(project=ProjectFactory(owner=owner)))
    return {"pk": version.pk}, ModelVersion, version.pk


# (route name, method, a function that makes the owner's object and returns the URL kwargs and the row to watch).
# Users are readable by every authenticated user, so only their writes are refused.
FORBIDDEN = [
    *[("user-detail", method, _user) for method in ["put", "patch", "delete"]],
    *[("project-detail", method, _project) for method in ["get", "put", "patch", "delete"]],
    ("project-experiment-list", "get", _project_experiments),
    ("project-transfer", "post", _project),
    ("project-restore", "post", _project),
    *[("project-member-list", method, _project_members) for method in ["get", "post"]],
    *[("project-member-detail", method, _membership) for method in ["get", "patch", "delete"]],
    ("project-invitation-list", "get", _project_members),
    *[("project-invitation-detail", method, _project_invitation) for method in ["get", "delete"]],
    *[("experiment-detail", method, _experiment) for method in ["get", "put", "patch", "delete"]],
    ("experiment-rerun", "post", _experiment),
    ("experiment-restore", "post", _experiment),
    *[("experiment-metric-list", method, _experiment_metrics) for method in ["get", "post"]],
    ("experiment-artifact-list", "get", _experiment_metrics),
    *[("experiment-artifact-detail", method, _experiment_artifact) for method in ["get", "put", "delete"]],
    *[("mlflow-artifacts-file", method, _run_artifact) for method in ["get", "put", "delete"]],
    *[("mlflow-logged-models-model_id", method, _logged_model) for method in ["get", "patch", "delete"]],
    ("mlflow-logged-models-model_id-tags", "patch", _logged_model),
    ("mlflow-logged-models-model_id-tags-tag_key", "delete", _logged_model_tag),
    ("mlflow-logged-models-model_id-params", "post", _logged_model),
    *[("registered-model-detail", method, _registered_model) for method in ["get", "put", "patch", "delete"]],
    ("registered-model-aliases", "post", _registered_model),
    ("registered-model-alias", "delete", _registered_model_alias),
    ("project-registered-model-list", "get", _project_registered_models),
    *[("model-version-detail", method, _model_version) for method in ["get", "put", "patch", "delete"]],
    ("model-version-transition", "post", _model_version),
    ("project-logged-model-list", "get", _project_experiments),
    *[("project-logged-model-detail", method, _project_logged_model) for method in ["get", "delete"]],
    ("experiment-input-list", "get", _experiment_metrics),
    ("experiment-output-list", "get", _experiment_metrics),
]


@pytest.mark.parametrize(("route", "method", "make"), FORBIDDEN, ids=[f"{r}-{m}" for r, m, _ in FORBIDDEN])
def test_a_caller_without_access_gets_403_and_nothing_changes(route, method, make, other_client, user):
    kwargs, model, pk = make(user)
    before = model_to_dict(model.objects.get(pk=pk))
    body = {
        "name": "taken over",
        "username": "takenover",
        "email": "x@example.com",
        "user": "someone",
        "role": "viewer",
    }

    response = getattr(other_client, method)(reverse(route, kwargs=kwargs), body, format="json")

    assert response.status_code == status.HTTP_403_FORBIDDEN, response.content
    assert model_to_dict(model.objects.get(pk=pk)) == before


# Objects whose very existence is private answer 404 to a caller without access, as a missing id does: tokens, and
# invitations on their invitee's routes (the project's maintainers see them under the project, above).
# (Tokens cannot be changed at all: PUT and PATCH answer 405 to everyone.)
HIDDEN = [
    *[("personal-access-token-detail", method, _token) for method in ["get", "delete"]],
    ("invitation-detail", "get", _invitation_to),
    ("invitation-accept", "post", _invitation_to),
    ("invitation-decline", "post", _invitation_to),
]


@pytest.mark.parametrize(("route", "method", "make"), HIDDEN, ids=[f"{r}-{m}" for r, m, _ in HIDDEN])
def test_a_caller_without_access_to_a_private_object_gets_404_and_nothing_changes(
    route, method, make, other_client, user
):
    kwargs, model, pk = make(user)
    before = model_to_dict(model.objects.get(pk=pk))

    response = getattr(other_client, method)(reverse(route, kwargs=kwargs), {"name": "taken over"}, format="json")

    assert response.status_code == status.HTTP_404_NOT_FOUND, response.content
    assert model_to_dict(model.objects.get(pk=pk)) == before


def _detail_routes() -> set[str]:
    """Every API route that addresses one object (its pattern takes an id)."""
    names = set()

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                # The admin is Django's, with its own checks; the web UI's pages have their own table (ui/tests).
                if not str(pattern.pattern).startswith(("admin", "ui/")):
                    walk(pattern.url_patterns)
            elif pattern.pattern.regex.groupindex and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_detail_route_has_a_403_or_404_test():
    # A new route that addresses one object must join FORBIDDEN (or HIDDEN) above, with every method a stranger might
    # try.
    assert _detail_routes() == {route for route, _, _ in FORBIDDEN + HIDDEN}


# Forged and misused tokens ------------------------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user, **changes) -> dict:
    claims = dict(AccessToken.for_user(user).payload)
    claims.update(changes)
    return claims


@pytest.fixture
def forged_tokens(user, other_user):
    claims = _claims(user)
    access = str(AccessToken.for_user(user))
    head, payload, signature = access.split(".")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    return {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "wrong-key": jwt.encode(claims, "not-the-signing-key-" * 3, algorithm="HS256"),
        "tampered-user-id": f"{head}.{_b64(_claims(user, user_id=str(other_user.pk)))}.{signature}",
        "expired": str(expired),
        "refresh-as-access": str(RefreshToken.for_user(user)),
        "garbage": "not.a.token",
        "empty-signature": f"{head}.{payload}.",
    }


@pytest.mark.parametrize(
    "kind", ["alg-none", "wrong-key", "tampered-user-id", "expired", "refresh-as-access", "garbage", "empty-signature"]
)
def test_forged_or_misused_token_is_401(api_client, forged_tokens, kind):
    response = api_client.get(reverse("me"), HTTP_AUTHORIZATION=f"Bearer {forged_tokens[kind]}")

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", ["alg-none", "wrong-key", "tampered-user-id", "garbage"])
def test_forged_token_is_refused_by_refresh_and_verify(api_client, forged_tokens, kind):
    assert api_client.post("/auth/token/refresh", {"refresh": forged_tokens[kind]}).status_code == 401
    assert api_client.post("/auth/token/verify", {"token": forged_tokens[kind]}).status_code == 401


def test_access_token_sent_to_refresh_is_401(api_client, user):
    access = str(AccessToken.for_user(user))

    assert api_client.post("/auth/token/refresh", {"refresh": access}).status_code == status.HTTP_401_UNAUTHORIZED


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Basic dXNlcjpwYXNz", "Bearer a b", "Token abc"])
def test_malformed_authorization_header_never_500(api_client, header):
    response = api_client.get(reverse("me"), HTTP_AUTHORIZATION=header)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED


# Mass assignment ----------------------------------------------------------------------------------------------------

PROTECTED = {
    "owner": 999,
    "is_staff": True,
    "is_superuser": True,
    "is_active": False,
    "id": 424242,
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "date_joined": "2000-01-01T00:00:00Z",
    "experiment_count": 99,
    "role": "owner",
}


def test_protected_fields_in_a_project_body_change_nothing(user, user_client, other_user):
    response = user_client.post(reverse("project-list"), {"name": "mine", **PROTECTED, "owner": other_user.pk})

    assert response.status_code == status.HTTP_201_CREATED
    project = Project.objects.get(pk=response.data["id"])
    assert (project.owner, project.pk != 424242, project.created_at.year != 2000) == (user, True, True)
    patched = user_client.patch(reverse("project-detail", args=[project.pk]), {**PROTECTED, "owner": other_user.pk})
    assert patched.status_code == status.HTTP_200_OK
    project.refresh_from_db()
    assert project.owner == user


def test_protected_fields_in_an_experiment_body_change_nothing(user, user_client, other_user):
    response = user_client.post(reverse("experiment-list"), {"name": "mine", **PROTECTED, "owner": other_user.pk})

    assert response.status_code == status.HTTP_201_CREATED
    experiment = Experiment.objects.get(pk=response.data["id"])
    assert (experiment.owner, experiment.pk != 424242, experiment.created_at.year != 2000) == (user, True, True)


def test_protected_fields_in_a_user_body_change_nothing(user, user_client):
    before = model_to_dict(User.objects.get(pk=user.pk))

    response = user_client.patch(reverse("user-detail", args=[user.pk]), PROTECTED, format="json")

    assert response.status_code == status.HTTP_200_OK
    after = model_to_dict(User.objects.get(pk=user.pk))
    assert after == before


# Leaks --------------------------------------------------------------------------------------------------------------


def test_no_response_leaks_hashes_other_emails_or_foreign_tokens(api_client, user, other_user):
    project = ProjectFactory(owner=user)
    ProjectMembershipFactory(project=project, user=other_user)
    ExperimentFactory(owner=user, project=project)
    RefreshToken.for_user(other_user)  # Outstanding for the other user: must never show up.
    PersonalAccessTokenFactory(user=other_user)  # Nor may their personal access token, or even its prefix.
    login = api_client.post("/auth/token", {"username": user.username, "password": PASSWORD})
    issued = {login.data["access"], login.data["refresh"]}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {login.data['access']}"}
    other_user.refresh_from_db()

    urls = [
        reverse("user-list"),
        reverse("user-detail", args=[other_user.pk]),
        reverse("me"),
        reverse("project-list"),
        reverse("project-detail", args=[project.pk]),
        reverse("project-member-list", args=[project.pk]),
        reverse("experiment-list"),
        reverse("project-experiment-list", args=[project.pk]),
        reverse("personal-access-token-list"),
    ]
    for url in urls:
        body = api_client.get(url, **auth).content.decode()
        assert user.password not in body and other_user.password not in body, url
        assert "argon2" not in body and "md5$" not in body and "pbkdf2" not in body, url
        assert other_user.email not in body, url
        assert "reg_pat_" not in body, url
        tokens = {word for word in body.replace('"', " ").split() if word.count(".") == 2 and len(word) > 100}
        assert tokens <= issued, url


# Pathological input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a\\u0000b"}',
        '{"name": "\\udc00"}',
        '{"name": "ok", "parameters": {"k": "a\\u0000b"}}',
        '{"name": "ok", "parameters": {"k\\u0000": 1}}',
        '{"name": "ok", "parameters": {"k": "\\ud83d"}}',
        '{"name": "ok", "tags": ["\\u0000"]}',
        '{"name": "ok", "results": {"loss": 1e999}}',
        '{"name": "ok", "results": {"loss": NaN}}',
        '{"name": "ok", "parameters": {"big": 123456789012345678901234567890}}',
        '{"name": "ok", "parameters": {"big": 9223372036854775808}}',
        '{"name": "ok", "parameters": {"big": -9223372036854775809}}',
        '{"name": "ok", "parameters": {"big": 18446744073709551616}}',
        '{"name": "ok", "results": {"loss": -1e999}}',
        '{"name": "ok", "results": {"loss": -Infinity}}',
        '{"name": "ok", "results": {"n": 123456789012345678901234567890}}',
        '{"name": "ok", "project": 123456789012345678901234567890}',
        '{"name": "ok", "started_at": "99999-01-01T00:00:00Z"}',
        "null",
        "[]",
        '"x"',
        "",
    ],
)
def test_hostile_experiment_bodies_are_400_and_store_nothing(user_client, body):
    response = user_client.generic("POST", reverse("experiment-list"), body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a\\u0000b"}',
        '{"name": "ok", "expiration_date": "99999-12-31"}',
        '{"name": "ok", "expiration_date": 123456789012345678901234567890}',
        '{"name": ["ok"]}',
        '{"name": {"x": 1}}',
    ],
)
def test_hostile_project_bodies_are_400_and_store_nothing(user_client, body):
    response = user_client.generic("POST", reverse("project-list"), body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    assert not Project.objects.exists()


def test_json_nested_50000_deep_is_a_fast_400(user_client):
    body = '{"name": "x", "parameters": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}"
    started = time.monotonic()

    response = user_client.generic("POST", reverse("experiment-list"), body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert time.monotonic() - started < 5


def test_body_over_one_megabyte_is_413_on_every_write_route(user_client, user):
    body = json.dumps({"name": "x", "description": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    for url in [reverse("experiment-list"), reverse("project-list"), reverse("user-detail", args=[user.pk])]:
        response = user_client.generic("POST", url, body, content_type="application/json")
        assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, url


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("limit", "0", 400),
        ("limit", "-1", 400),
        ("limit", "abc", 400),
        ("limit", "1" + "0" * 30, 200),
        ("limit", "1.5", 400),
        ("offset", "0", 200),
        ("offset", "-1", 400),
        ("offset", "abc", 400),
        ("offset", "1" + "0" * 30, 200),
    ],
)
@pytest.mark.parametrize("route", ["experiment-list", "project-list", "user-list"])
def test_paging_values_answer_200_or_400_never_500(user_client, route, param, value, expected):
    response = user_client.get(reverse(route), {param: value})

    assert response.status_code == expected


@pytest.mark.parametrize("ordering", ["owner__password", "owner__email", "password", "project__owner__password", "?"])
@pytest.mark.parametrize("route", ["experiment-list", "project-list", "user-list"])
def test_ordering_by_undeclared_or_related_field_is_400(user_client, route, ordering):
    response = user_client.get(reverse(route), {"ordering": ordering})

    assert response.status_code == status.HTTP_400_BAD_REQUEST


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/yaml"])
def test_unknown_content_type_is_415(user_client, content_type):
    response = user_client.generic("POST", reverse("project-list"), "name: x", content_type=content_type)

    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


def test_a_one_megabyte_password_is_refused_within_a_second(api_client, user):
    password = "p" * 1_000_000
    started = time.monotonic()

    login = api_client.post("/auth/token", {"username": user.username, "password": password}, format="json")
    register = api_client.post(
        "/auth/register", {"username": "big", "email": "big@example.com", "password": password}, format="json"
    )

    assert (login.status_code, register.status_code) == (400, 400)
    assert time.monotonic() - started < 1


def test_security_headers_on_every_kind_of_response(api_client, user_client):
    for response in [
        api_client.get("/health"),
        api_client.get("/nope"),
        user_client.get(reverse("project-list")),
        api_client.get(reverse("project-list")),
    ]:
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in user_client.get(reverse("experiment-list"))["Cache-Control"]


def test_foreign_host_is_400_on_every_route(api_client, user_client):
    for client, url in [(api_client, "/health"), (user_client, reverse("project-list")), (api_client, "/admin/")]:
        assert client.get(url, HTTP_HOST="attacker.example").status_code == status.HTTP_400_BAD_REQUEST


@pytest.mark.parametrize(
    "moment", ["0038-03-14T07:12:08.61-20:28", "2024-01-01T00:00:00+23:59", "0001-01-01T00:00+05:00"]
)
def test_extreme_time_zone_offsets_never_fail_the_database(user_client, moment):
    listed = user_client.get(reverse("experiment-list"), {"created_before": moment})
    created = user_client.post(reverse("experiment-list"), {"name": "tz", "started_at": moment}, format="json")

    assert listed.status_code in (status.HTTP_200_OK, status.HTTP_400_BAD_REQUEST)
    assert created.status_code in (status.HTTP_201_CREATED, status.HTTP_400_BAD_REQUEST)


@pytest.mark.parametrize(
    ("route", "param"),
    [
        ("experiment-list", "created_before"),
        ("experiment-list", "created_after"),
        ("experiment-list", "status"),
        ("experiment-list", "project"),
        ("experiment-list", "mine"),
        ("project-list", "expires_before"),
        ("project-list", "expired"),
        ("project-list", "role"),
    ],
)
def test_an_empty_filter_value_is_400_not_ignored(user_client, route, param):
    response = user_client.get(reverse(route), {param: ""})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert param in response.json()


def test_empty_text_filters_are_allowed(user_client):
    assert user_client.get(reverse("experiment-list"), {"search": "", "tag": ""}).status_code == status.HTTP_200_OK


# NUL characters in query strings and forms ------------------------------------------------------------------------

NUL_FORMS = [
    (reverse("auth-token"), "urlencoded", {"username": "ad\x00min", "password": PASSWORD}, "username"),
    (reverse("auth-token"), "urlencoded", {"username": "admin", "password": "pass\x00word"}, "password"),
    (reverse("auth-token"), "multipart", {"username": "ad\x00min", "password": PASSWORD}, "username"),
    (reverse("admin:login"), "urlencoded", {"username": "ad\x00min", "password": PASSWORD, "next": "/"}, "username"),
    (reverse("admin:login"), "urlencoded", {"username": "admin", "password": PASSWORD, "next\x00": "/"}, "next\x00"),
    (reverse("rest_framework:login"), "urlencoded", {"username": "ad\x00min", "password": PASSWORD}, "username"),
    (
        reverse("rest_framework:login"),
        "multipart",
        {"username": "admin", "password": PASSWORD, "next": "/\x00"},
        "next",
    ),
]
UNSTORABLE = ["Strings may not contain NUL characters or unpaired surrogates."]


@pytest.mark.parametrize(("url", "encoding", "form", "field"), NUL_FORMS)
def test_a_nul_in_a_login_form_is_400_naming_the_field(client, url, encoding, form, field):
    UserFactory(username="admin", is_staff=True)
    if encoding == "urlencoded":
        response = client.post(url, urlencode(form), content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(url, form)
    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    assert response.json() == {field: UNSTORABLE}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (reverse("experiment-list"), {"name": "a\x00"}, "name"),
        (reverse("project-list"), {"search\x00": "a"}, "search\x00"),
        (reverse("admin:login"), {"next": "/\x00"}, "next"),
    ],
)
def test_a_nul_in_a_query_string_is_400_naming_the_parameter(user_client, url, params, field):
    response = user_client.get(url, params)
    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    assert response.json() == {field: UNSTORABLE}
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_login_form_without_nul_still_logs_in(client):
    UserFactory(username="admin", is_staff=True)
    form = {"username": "admin", "password": PASSWORD}
    response = client.post(reverse("auth-token"), urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == status.HTTP_200_OK, response.content
    assert client.post(reverse("auth-token"), form).status_code == status.HTTP_200_OK
    assert client.post(reverse("admin:login"), {**form, "next": "/admin/"}).status_code == status.HTTP_302_FOUND


def test_a_form_to_a_json_only_route_is_still_415(user_client):
    urlencoded = user_client.post(
        reverse("project-list"), urlencode({"name": "form"}), content_type="application/x-www-form-urlencoded"
    )
    multipart = user_client.post(reverse("project-list"), {"name": "form"}, format="multipart")
    assert (urlencoded.status_code, multipart.status_code) == (415, 415)
    assert not Project.objects.exists()


# Bodies without a declared length ---------------------------------------------------------------------------------


def _chunked(client, method: str, url: str, body: dict, **extra):
    """A request as gunicorn hands on a chunked one: the body decoded in wsgi.input, no CONTENT_LENGTH."""
    payload = json.dumps(body).encode()
    return client.generic(
        method,
        url,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": FakePayload(payload)},
        **extra,
    )


@pytest.mark.parametrize("extra", [{}, {"CONTENT_LENGTH": "17"}])
def test_a_chunked_body_is_411_and_changes_nothing(user_client, user, extra):
    experiment = ExperimentFactory(owner=user, name="before")
    before = snapshot()
    for method, url, body in [
        ("PATCH", reverse("experiment-detail", args=[experiment.pk]), {"name": "after"}),
        ("POST", reverse("project-list"), {"name": "new"}),
        ("POST", reverse("experiment-list"), {"name": "new"}),
    ]:
        response = _chunked(user_client, method, url, body, **extra)
        assert response.status_code == status.HTTP_411_LENGTH_REQUIRED, response.content
        assert response.json() == {"detail": "Send the request body with a Content-Length header, not chunked."}
    assert snapshot() == before


def test_a_chunked_mlflow_body_is_411_in_mlflow_json(user_client, user):
    run = ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    before = snapshot()
    body = {"run_id": run.run_uuid, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    response = _chunked(user_client, "POST", "/api/2.0/mlflow/runs/log-metric", body)
    assert response.status_code == status.HTTP_411_LENGTH_REQUIRED, response.content
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Send the request body with a Content-Length header, not chunked.",
    }
    assert snapshot() == before


def test_a_body_with_a_content_length_is_read_as_before(user_client, user):
    experiment = ExperimentFactory(owner=user, name="before")
    response = user_client.generic(
        "PATCH",
        reverse("experiment-detail", args=[experiment.pk]),
        json.dumps({"name": "after"}),
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="identity",
    )
    assert response.status_code == status.HTTP_200_OK, response.content
    experiment.refresh_from_db()
    assert experiment.name == "after"
