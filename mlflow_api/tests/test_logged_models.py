"""MLflow 3's logged models (`logged-models/...`, `runs/outputs`) and their files on the artifact proxy, as the client
calls them."""

import io
import json
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from experiments.models import ExperimentStatus
from experiments.tests.factories import ExperimentFactory
from loggedmodels import services
from loggedmodels.models import LoggedModel, LoggedModelStatus
from loggedmodels.tests.factories import LoggedModelFactory
from projects.models import LifecycleStage
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client, snapshot

pytestmark = pytest.mark.django_db

API = "/api/2.0/mlflow/"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def error(response, http_status: int, code: str) -> str:
    assert response.status_code == http_status, response.content
    assert response.json()["error_code"] == code
    return response.json()["message"]


def ms(moment) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def run(user):
    return ExperimentFactory(owner=user, project=ProjectFactory(owner=user), status=ExperimentStatus.RUNNING)


def create(client, run, **extra) -> dict:
    body = {"experiment_id": str(run.project_id), "name": "model", "source_run_id": run.run_uuid, **extra}
    return ok(client.post(f"{API}logged-models", body, format="json"))["model"]


def stored_files() -> list[str]:
    location = settings.STORAGES["artifacts"]["OPTIONS"]["location"]
    return sorted(os.path.relpath(os.path.join(d, f), location) for d, _, files in os.walk(location) for f in files)


# ---------------------------------------------------------------------------------------------------------------------
# The client's calls, in the order log_model makes them
# ---------------------------------------------------------------------------------------------------------------------


def test_log_model_creates_uploads_links_and_finalizes_as_the_client_does(user_client, run):
    made = create(
        user_client,
        run,
        model_type="sklearn",
        tags=[{"key": "mlflow.source.name", "value": "train.py"}],
        params=[{"key": "alpha", "value": "0.5"}],
    )
    model = LoggedModel.objects.get()
    location = f"mlflow-artifacts:/{run.project_id}/models/{model.model_id}/artifacts"
    assert made == {
        "info": {
            "model_id": model.model_id,
            "experiment_id": str(run.project_id),
            "name": "model",
            "artifact_uri": location,
            "creation_timestamp_ms": ms(model.created_at),
            "last_updated_timestamp_ms": ms(model.updated_at),
            "status": "LOGGED_MODEL_PENDING",
            "tags": [{"key": "mlflow.source.name", "value": "train.py"}],
            "model_type": "sklearn",
            "source_run_id": run.run_uuid,
        },
        "data": {"params": [{"key": "alpha", "value": "0.5"}], "metrics": []},
    }
    assert model.model_id.startswith("m-") and len(model.model_id) == 34

    files = f"{PROXY}/{run.project_id}/models/{model.model_id}/artifacts"
    assert user_client.put(f"{files}/MLmodel", b"flavors: {}", content_type="text/plain").status_code == 200
    assert user_client.put(f"{files}/model.pkl", b"pickle", content_type="application/octet-stream").status_code == 200
    assert (
        ok(
            user_client.post(
                f"{API}runs/outputs",
                {"run_id": run.run_uuid, "models": [{"model_id": model.model_id, "step": 0}]},
                format="json",
            )
        )
        == {}
    )
    finalized = ok(
        user_client.patch(
            f"{API}logged-models/{model.model_id}",
            {"model_id": model.model_id, "status": "LOGGED_MODEL_READY"},
            format="json",
        )
    )
    assert finalized["model"]["info"]["status"] == "LOGGED_MODEL_READY"

    listing = ok(user_client.get(PROXY, {"path": f"{run.project_id}/models/{model.model_id}/artifacts"}))
    assert listing == {
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": 11},
            {"path": "model.pkl", "is_dir": False, "file_size": 6},
        ]
    }
    assert b"".join(user_client.get(f"{files}/model.pkl").streaming_content) == b"pickle"
    assert stored_files() == [f"models/{model.model_id}/MLmodel", f"models/{model.model_id}/model.pkl"]
    got = ok(user_client.get(f"{API}runs/get", {"run_id": run.run_uuid}))["run"]
    assert got["outputs"] == {"model_outputs": [{"model_id": model.model_id, "step": 0}]}


def test_tags_params_get_and_delete(user_client, run):
    model_id = create(user_client, run)["info"]["model_id"]
    url = f"{API}logged-models/{model_id}"
    assert (
        ok(
            user_client.patch(
                f"{url}/tags", {"tags": [{"key": "a/b", "value": "1"}, {"key": "c", "value": "2"}]}, format="json"
            )
        )
        == {}
    )
    assert ok(user_client.delete(f"{url}/tags/a/b")) == {}
    assert (
        ok(
            user_client.post(
                f"{url}/params", {"model_id": model_id, "params": [{"key": "lr", "value": "0.1"}]}, format="json"
            )
        )
        == {}
    )
    info = ok(user_client.get(url))["model"]
    assert (info["info"]["tags"], info["data"]["params"]) == (
        [{"key": "c", "value": "2"}],
        [{"key": "lr", "value": "0.1"}],
    )

    assert ok(user_client.delete(url)) == {}
    error(user_client.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(user_client.get(url, {"allow_deleted": "true"}))["model"]["info"]["model_id"] == model_id
    assert LoggedModel.objects.get().lifecycle_stage == LifecycleStage.DELETED


def test_a_model_without_a_name_gets_one_and_a_run_may_be_left_out(user_client, run):
    made = ok(user_client.post(f"{API}logged-models", {"experiment_id": str(run.project_id)}, format="json"))["model"]
    assert made["info"]["name"] and "source_run_id" not in made["info"]


BAD = [
    ("POST", "logged-models", {"experiment_id": "{project}", "name": "a/b"}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "POST",
        "logged-models",
        {"experiment_id": "{project}", "tags": [{"key": "", "value": "x"}]},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("POST", "logged-models", {"experiment_id": "{project}", "params": "x"}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "logged-models", {"experiment_id": "{project}", "source_run_id": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "logged-models", {"experiment_id": "999999"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    (
        "POST",
        "logged-models",
        {"experiment_id": "{project}", "source_run_id": "{other_run}"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("GET", "logged-models/m-0", {}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("PATCH", "logged-models/{model}", {"status": "LOGGED_MODEL_PENDING"}, 400, "INVALID_PARAMETER_VALUE"),
    ("PATCH", "logged-models/{model}", {"status": 7}, 400, "INVALID_PARAMETER_VALUE"),
    ("DELETE", "logged-models/{model}/tags/missing", {}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "logged-models/{model}/params", {"params": [{"key": "k", "value": 3}]}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "logged-models/search", {"experiment_ids": []}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "POST",
        "logged-models/search",
        {"experiment_ids": ["{project}"], "filter": "metrics.acc > 1"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "logged-models/search",
        {"experiment_ids": ["{project}"], "filter": "status = 'DONE'"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "logged-models/search",
        {"experiment_ids": ["{project}"], "order_by": ["name"]},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "logged-models/search",
        {"experiment_ids": ["{project}"], "page_token": "x"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("POST", "runs/outputs", {"run_id": "{run}", "models": [{"model_id": "m-0"}]}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "runs/outputs", {"run_id": "{run}", "models": {"x": 1}}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "logged-models/search", {}, 405, "ENDPOINT_NOT_FOUND"),
]


def _filled(value, names: dict):
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, names) for item in value]
    return value.format(**names) if isinstance(value, str) else value


def send(client, method: str, path: str, body: dict):
    if method == "GET":
        return client.get(API + path, body)
    return getattr(client, method.lower())(API + path, body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "http_status", "code"), BAD)
def test_bad_input_gets_mlflow_json_4xx_and_changes_nothing(
    user_client, user, run, method, path, body, http_status, code
):
    model = LoggedModelFactory(project=run.project, creator=user)
    other_run = ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    names = {"project": run.project_id, "run": run.run_uuid, "model": model.model_id, "other_run": other_run.run_uuid}
    before = snapshot()
    error(send(user_client, method, _filled(path, names), _filled(body, names)), http_status, code)
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------------


def search(client, project, **body) -> list[str]:
    found = ok(client.post(f"{API}logged-models/search", {"experiment_ids": [str(project.pk)], **body}, format="json"))
    return [model["info"]["name"] for model in found["models"]]


def test_search_filters_orders_and_pages(user_client, user, run):
    project = run.project
    LoggedModelFactory(project=project, name="a", source_run=run, params={"lr": "0.1"}, tags={"stage": "dev"})
    LoggedModelFactory(project=project, name="b", status=LoggedModelStatus.READY, model_type="sklearn")
    LoggedModelFactory(project=project, name="c", status=LoggedModelStatus.READY, tags={"stage": "prod"})
    LoggedModelFactory(project=project, name="gone", lifecycle_stage=LifecycleStage.DELETED)
    LoggedModelFactory(name="elsewhere")

    assert search(user_client, project) == ["c", "b", "a"]
    assert search(user_client, project, filter="name = 'a'") == ["a"]
    assert search(user_client, project, filter=f"source_run_id = '{run.run_uuid}'") == ["a"]
    assert search(user_client, project, filter="status = 'READY'") == ["c", "b"]
    assert search(user_client, project, filter="params.lr = '0.1'") == ["a"]
    assert search(user_client, project, filter="tags.stage != 'dev'") == ["c"]
    assert search(user_client, project, filter="name LIKE '%' and model_type = 'sklearn'") == ["b"]
    assert search(user_client, project, filter="name IN ('a', 'c')") == ["c", "a"]
    assert search(user_client, project, order_by=[{"field_name": "name", "ascending": True}]) == ["a", "b", "c"]

    first = ok(
        user_client.post(
            f"{API}logged-models/search", {"experiment_ids": [str(project.pk)], "max_results": 2}, format="json"
        )
    )
    assert [m["info"]["name"] for m in first["models"]] == ["c", "b"]
    body = {"experiment_ids": [str(project.pk)], "max_results": 2, "page_token": first["next_page_token"]}
    second = ok(user_client.post(f"{API}logged-models/search", body, format="json"))
    assert [m["info"]["name"] for m in second["models"]] == ["a"] and "next_page_token" not in second


# ---------------------------------------------------------------------------------------------------------------------
# Access: caller -> route -> status, written out
# ---------------------------------------------------------------------------------------------------------------------

ROUTES = (
    "create",
    "get",
    "search",
    "finalize",
    "set-tags",
    "delete-tag",
    "log-params",
    "delete",
    "outputs",
    "file-get",
    "file-list",
    "file-put",
    "file-delete",
)
TABLE = {
    "anonymous": dict.fromkeys(ROUTES, 401),
    "stranger": dict.fromkeys(ROUTES, 403),
    "viewer": {
        "create": 403,
        "get": 200,
        "search": 200,
        "finalize": 403,
        "set-tags": 403,
        "delete-tag": 403,
        "log-params": 403,
        "delete": 403,
        "outputs": 403,
        "file-get": 200,
        "file-list": 200,
        "file-put": 403,
        "file-delete": 403,
    },
    "editor": {
        "create": 200,
        "get": 200,
        "search": 200,
        "finalize": 200,
        "set-tags": 200,
        "delete-tag": 200,
        "log-params": 200,
        "delete": 403,
        "outputs": 200,
        "file-get": 200,
        "file-list": 200,
        "file-put": 200,
        "file-delete": 403,
    },
    "maintainer": dict.fromkeys(ROUTES, 200),
    "owner": dict.fromkeys(ROUTES, 200),
}
CODES = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}


def _caller(kind: str, project) -> APIClient:
    if kind == "anonymous":
        return APIClient()
    if kind in {"viewer", "editor", "maintainer"}:
        return bearer_client(ProjectMembershipFactory(project=project, role=kind).user)
    if kind == "owner":
        return bearer_client(project.owner)
    return bearer_client(UserFactory())


def _request(client, route: str, model: LoggedModel, run):
    url = f"{API}logged-models/{model.model_id}"
    files = f"{PROXY}/{model.project_id}/models/{model.model_id}/artifacts"
    experiment = str(model.project_id)
    calls = {
        "create": lambda: client.post(
            f"{API}logged-models", {"experiment_id": experiment, "name": "new"}, format="json"
        ),
        "get": lambda: client.get(url),
        "search": lambda: client.post(f"{API}logged-models/search", {"experiment_ids": [experiment]}, format="json"),
        "finalize": lambda: client.patch(url, {"status": "LOGGED_MODEL_READY"}, format="json"),
        "set-tags": lambda: client.patch(f"{url}/tags", {"tags": [{"key": "k", "value": "2"}]}, format="json"),
        "delete-tag": lambda: client.delete(f"{url}/tags/k"),
        "log-params": lambda: client.post(f"{url}/params", {"params": [{"key": "p", "value": "1"}]}, format="json"),
        "delete": lambda: client.delete(url),
        "outputs": lambda: client.post(
            f"{API}runs/outputs", {"run_id": run.run_uuid, "models": [{"model_id": model.model_id}]}, format="json"
        ),
        "file-get": lambda: client.get(f"{files}/a.txt"),
        "file-list": lambda: client.get(PROXY, {"path": f"{experiment}/models/{model.model_id}/artifacts"}),
        "file-put": lambda: client.put(f"{files}/b.txt", b"new", content_type="text/plain"),
        "file-delete": lambda: client.delete(f"{files}/a.txt"),
    }
    return calls[route]()


@pytest.mark.parametrize(
    ("kind", "route", "expected"),
    [(kind, route, row[route]) for kind, row in TABLE.items() for route in ROUTES],
    ids=[f"{kind}-{route}" for kind, row in TABLE.items() for route in ROUTES],
)
def test_the_permission_table_of_logged_models(kind, route, expected):
    project = ProjectFactory()
    run = ExperimentFactory(owner=project.owner, project=project, status=ExperimentStatus.RUNNING)
    model = LoggedModelFactory(project=project, tags={"k": "1"})
    services.logged_model_file_put(actor=project.owner, model=model, path="a.txt", stream=io.BytesIO(b"a"), length=1)
    client = _caller(kind, project)
    before, files_before = snapshot(), stored_files()

    response = _request(client, route, model, run)

    assert response.status_code == expected, getattr(response, "content", b"")
    if expected in CODES:
        assert response.json()["error_code"] == CODES[expected]
        assert (snapshot(), stored_files()) == (before, files_before)


def test_a_model_file_is_found_only_under_its_own_experiment(user_client, user):
    model = LoggedModelFactory(project=ProjectFactory(owner=user))
    services.logged_model_file_put(actor=user, model=model, path="a.txt", stream=io.BytesIO(b"a"), length=1)
    other = ProjectFactory(owner=user)
    url = f"{PROXY}/{other.pk}/models/{model.model_id}/artifacts/a.txt"
    error(user_client.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
    error(
        user_client.get(f"{PROXY}/{model.project_id}/models/{model.model_id}/x/a.txt"), 400, "INVALID_PARAMETER_VALUE"
    )
    error(
        user_client.get(f"{PROXY}/{model.project_id}/models/{model.model_id}/artifacts/../a.txt"),
        400,
        "INVALID_PARAMETER_VALUE",
    )


# Route -> (status with a read token, status with a write token).
MODEL_SCOPE_TABLE = [
    ("runs/outputs", "POST", 403, 200),
    ("logged-models", "POST", 403, 200),
    ("logged-models/search", "POST", 200, 200),
    ("logged-models/{model_id}", "GET", 200, 200),
    ("logged-models/{model_id}", "PATCH", 403, 200),
    ("logged-models/{model_id}", "DELETE", 403, 200),
    ("logged-models/{model_id}/tags", "PATCH", 403, 200),
    ("logged-models/{model_id}/tags/{tag_key}", "DELETE", 403, 200),
    ("logged-models/{model_id}/params", "POST", 403, 200),
]
SCOPE_ROUTES = {
    ("runs/outputs", "POST"): "outputs",
    ("logged-models", "POST"): "create",
    ("logged-models/search", "POST"): "search",
    ("logged-models/{model_id}", "GET"): "get",
    ("logged-models/{model_id}", "PATCH"): "finalize",
    ("logged-models/{model_id}", "DELETE"): "delete",
    ("logged-models/{model_id}/tags", "PATCH"): "set-tags",
    ("logged-models/{model_id}/tags/{tag_key}", "DELETE"): "delete-tag",
    ("logged-models/{model_id}/params", "POST"): "log-params",
}


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize(("route", "method", "read", "write"), MODEL_SCOPE_TABLE)
def test_a_read_token_may_search_and_read_models_only(user, scope, route, method, read, write):
    from mlflow_api.tests.test_mlflow_api import token_client

    project = ProjectFactory(owner=user)
    run = ExperimentFactory(owner=user, project=project, status=ExperimentStatus.RUNNING)
    model = LoggedModelFactory(project=project, tags={"k": "1"})
    before = snapshot()
    response = _request(token_client(user, scope), SCOPE_ROUTES[route, method], model, run)
    assert response.status_code == (read if scope == "read" else write), response.content
    if scope == "read":
        assert snapshot() == before


def test_log_model_keeps_the_models_metadata_in_the_runs_history_tag(user_client, run):
    for path in ["model", "other"]:
        body = {"run_id": run.run_uuid, "model_json": json.dumps({"artifact_path": path, "flavors": {}})}
        assert ok(user_client.post(f"{API}runs/log-model", body, format="json")) == {}
    tags = ok(user_client.get(f"{API}runs/get", {"run_id": run.run_uuid}))["run"]["data"]["tags"]
    history = next(tag["value"] for tag in tags if tag["key"] == "mlflow.log-model.history")
    assert json.loads(history) == [{"artifact_path": "model", "flavors": {}}, {"artifact_path": "other", "flavors": {}}]


@pytest.mark.parametrize("model_json", [None, "not json", "[1]", json.dumps({"x": "y" * 9000})])
def test_log_model_refuses_what_is_no_model_and_changes_nothing(user_client, run, model_json):
    before = snapshot()
    body = {"run_id": run.run_uuid, "model_json": model_json}
    error(user_client.post(f"{API}runs/log-model", body, format="json"), 400, "INVALID_PARAMETER_VALUE")
    assert snapshot() == before


def test_a_viewer_may_not_record_a_model_on_a_run(run):
    viewer = ProjectMembershipFactory(project=run.project, role="viewer").user
    before = snapshot()
    body = {"run_id": run.run_uuid, "model_json": "{}"}
    error(bearer_client(viewer).post(f"{API}runs/log-model", body, format="json"), 403, "PERMISSION_DENIED")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/3.0/mlflow/traces"),
        ("GET", "/api/3.0/mlflow/traces/tr-1"),
        ("POST", "/ajax-api/2.0/mlflow/runs/search"),
    ],
)
def test_mlflows_other_api_roots_answer_endpoint_not_found_as_json(user_client, method, path):
    response = user_client.generic(method, path, "{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API endpoint at {path}."}


def test_the_admin_lists_logged_models(admin_client):
    model = LoggedModelFactory(name="listed")
    response = admin_client.get("/admin/loggedmodels/loggedmodel/")
    assert response.status_code == 200 and model.model_id in response.content.decode()
    assert admin_client.get(f"/admin/loggedmodels/loggedmodel/{model.pk}/change/").status_code == 200
