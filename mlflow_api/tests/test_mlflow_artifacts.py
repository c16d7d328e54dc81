"""MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/...`) and `GET /api/2.0/mlflow/artifacts/list`, as the client
calls them."""

import io
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from artifacts import services
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client
from tokens.models import TokenScope
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def run(user):
    return ExperimentFactory(owner=user, project=ProjectFactory(owner=user))


def base(run) -> str:
    return f"{PROXY}/{run.project_id}/{run.run_uuid}/artifacts"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def error(response, http_status: int, code: str) -> None:
    assert response.status_code == http_status, response.content
    assert response.json()["error_code"] == code


def stored_files() -> list[str]:
    location = settings.STORAGES["artifacts"]["OPTIONS"]["location"]
    return sorted(os.path.relpath(os.path.join(d, f), location) for d, _, files in os.walk(location) for f in files)


def test_a_run_shows_the_proxy_as_its_artifact_uri(user_client, run):
    response = user_client.get("/api/2.0/mlflow/runs/get", {"run_id": run.run_uuid})
    uri = f"mlflow-artifacts:/{run.project_id}/{run.run_uuid}/artifacts"
    assert response.json()["run"]["info"]["artifact_uri"] == uri
    response = user_client.get("/api/2.0/mlflow/experiments/get", {"experiment_id": run.project_id})
    assert response.json()["experiment"]["artifact_location"] == f"mlflow-artifacts:/{run.project_id}"


def test_upload_list_download_and_delete_as_the_client_does(user_client, run):
    response = user_client.put(f"{base(run)}/plots/loss.json", b'{"loss": 1}', content_type="application/json")
    assert response.status_code == 200 and response.json() == {}
    user_client.put(f"{base(run)}/model.pkl", b"pickle", content_type="application/octet-stream")

    root = user_client.get(PROXY, {"path": f"{run.project_id}/{run.run_uuid}/artifacts"})
    assert root.json() == {
        "files": [{"path": "model.pkl", "is_dir": False, "file_size": 6}, {"path": "plots", "is_dir": True}]
    }
    plots = user_client.get(PROXY, {"path": f"{run.project_id}/{run.run_uuid}/artifacts/plots"})
    assert plots.json() == {"files": [{"path": "loss.json", "is_dir": False, "file_size": 11}]}
    listed = user_client.get("/api/2.0/mlflow/artifacts/list", {"run_id": run.run_uuid, "path": "plots"})
    assert listed.json() == {
        "root_uri": f"mlflow-artifacts:/{run.project_id}/{run.run_uuid}/artifacts",
        "files": [{"path": "plots/loss.json", "is_dir": False, "file_size": 11}],
    }
    assert body(user_client.get(f"{base(run)}/plots/loss.json")) == b'{"loss": 1}'

    assert user_client.delete(f"{base(run)}/plots").status_code == 200
    assert stored_files() == [f"{run.run_uuid}/model.pkl"]


def test_an_upload_larger_than_the_global_body_limit_is_streamed(user_client, run):
    data = os.urandom(settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 3)
    assert user_client.put(f"{base(run)}/big.bin", data, content_type="application/octet-stream").status_code == 200
    assert body(user_client.get(f"{base(run)}/big.bin")) == data


def test_an_upload_over_artifact_max_bytes_answers_413_and_stores_nothing(user_client, run, settings):
    settings.ARTIFACT_MAX_BYTES = 100
    response = user_client.put(f"{base(run)}/big.bin", b"x" * 101, content_type="application/octet-stream")
    error(response, 413, "INVALID_PARAMETER_VALUE")
    assert stored_files() == []
    assert os.listdir(settings.ARTIFACTS_SPOOL_DIR) == []


HOSTILE = [
    "../../../etc/passwd",
    "a/../../other",
    "%2Fetc%2Fpasswd",
    "a%00b",
    "a%5Cb",
    "a//b",
    "a/",
    "./a",
    "a%0Ab",
    "n" * 256,
]


@pytest.mark.parametrize("path", HOSTILE)
@pytest.mark.parametrize("method", ["put", "get", "delete"])
def test_hostile_paths_answer_400_before_any_storage_call(user_client, run, monkeypatch, method, path):
    def no_storage():
        raise AssertionError("storage reached")

    monkeypatch.setattr(services, "artifact_storage", no_storage)
    url = f"{base(run)}/{path}"
    if method == "put":
        response = user_client.put(url, b"x", content_type="application/octet-stream")
    else:
        response = getattr(user_client, method)(url)
    error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("path", ["../x", "a//b", "/abs", "a\x00b"], ids=["dotdot", "empty-segment", "absolute", "nul"])
def test_hostile_listing_paths_answer_400(user_client, run, path):
    response = user_client.get("/api/2.0/mlflow/artifacts/list", {"run_id": run.run_uuid, "path": path})
    error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    "proxy_path",
    ["{e}/{r}", "{e}/{r}/other/x.txt", "{e}", ""],
    ids=["no-root", "other-root", "experiment-only", "empty"],
)
def test_a_proxy_path_not_shaped_as_a_runs_artifacts_answers_400(user_client, run, proxy_path):
    response = user_client.get(PROXY, {"path": proxy_path.format(e=run.project_id, r=run.run_uuid)})
    error(response, 400, "INVALID_PARAMETER_VALUE")


def test_a_run_named_under_another_experiment_answers_404_and_stores_nothing(user_client, user, run):
    elsewhere = ProjectFactory(owner=user)
    response = user_client.put(f"{PROXY}/{elsewhere.pk}/{run.run_uuid}/artifacts/x.txt", b"x")
    error(response, 404, "RESOURCE_DOES_NOT_EXIST")
    error(user_client.get(f"{PROXY}/{run.project_id}/{'0' * 32}/artifacts/x.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(user_client.get(f"{base(run)}/missing.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert stored_files() == []


# Caller -> route -> status, written out. The file `a.txt` exists; the upload writes `b.txt`.
ROUTES = ("list", "runs-list", "download", "upload", "delete")
TABLE = {
    "anonymous": {"list": 401, "runs-list": 401, "download": 401, "upload": 401, "delete": 401},
    "stranger": {"list": 403, "runs-list": 403, "download": 403, "upload": 403, "delete": 403},
    "viewer": {"list": 200, "runs-list": 200, "download": 200, "upload": 403, "delete": 403},
    "editor": {"list": 200, "runs-list": 200, "download": 200, "upload": 200, "delete": 403},
    "maintainer": {"list": 200, "runs-list": 200, "download": 200, "upload": 200, "delete": 200},
    "project owner": {"list": 200, "runs-list": 200, "download": 200, "upload": 200, "delete": 200},
}
CODES = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}


def _client(kind: str, run):
    if kind == "anonymous":
        return APIClient()
    if kind in {"viewer", "editor", "maintainer"}:
        return bearer_client(ProjectMembershipFactory(project=run.project, role=kind).user)
    if kind == "project owner":
        return bearer_client(run.project.owner)
    return bearer_client(UserFactory())


def _call(client, route: str, run):
    if route == "list":
        return client.get(PROXY, {"path": f"{run.project_id}/{run.run_uuid}/artifacts"})
    if route == "runs-list":
        return client.get("/api/2.0/mlflow/artifacts/list", {"run_id": run.run_uuid})
    if route == "download":
        return client.get(f"{base(run)}/a.txt")
    if route == "upload":
        return client.put(f"{base(run)}/b.txt", b"new", content_type="text/plain")
    return client.delete(f"{base(run)}/a.txt")


@pytest.mark.parametrize(
    ("kind", "route", "expected"),
    [(kind, route, row[route]) for kind, row in TABLE.items() for route in ROUTES],
    ids=[f"{kind}-{route}" for kind, row in TABLE.items() for route in ROUTES],
)
def test_the_permission_table_of_the_proxy(kind, route, expected):
    run = ExperimentFactory(project=ProjectFactory())
    services.artifact_put(actor=run.owner, experiment=run, path="a.txt", stream=io.BytesIO(b"a"), length=1)

    response = _call(_client(kind, run), route, run)

    assert response.status_code == expected, getattr(response, "content", b"")
    if expected in CODES:
        assert response.json()["error_code"] == CODES[expected]
    changed = {"upload": [f"{run.run_uuid}/a.txt", f"{run.run_uuid}/b.txt"], "delete": []}
    unchanged = [f"{run.run_uuid}/a.txt"]
    assert stored_files() == (changed[route] if route in changed and expected == 200 else unchanged)


def put(run, path: str, data: bytes) -> None:
    services.artifact_put(actor=run.owner, experiment=run, path=path, stream=io.BytesIO(data), length=len(data))


def test_a_read_scoped_token_downloads_but_does_not_upload(user, run):
    put(run, "a.txt", b"a")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer reg_pat_read" + "0" * 36)
    PersonalAccessTokenFactory(user=user, scope=TokenScope.READ, secret="reg_pat_read" + "0" * 36)

    assert body(client.get(f"{base(run)}/a.txt")) == b"a"
    assert client.put(f"{base(run)}/b.txt", b"b", content_type="text/plain").status_code == 403
    assert stored_files() == [f"{run.run_uuid}/a.txt"]


# Name -> (Content-Type, Content-Disposition): only inert types are shown inline; a browser could run the others.
CONTENT_TYPES = {
    "notes.txt": ("text/plain", 'inline; filename="notes.txt"'),
    "table.json": ("application/json", 'inline; filename="table.json"'),
    "plot.png": ("image/png", 'inline; filename="plot.png"'),
    "photo.jpg": ("image/jpeg", 'inline; filename="photo.jpg"'),
    "page.html": ("text/html", 'attachment; filename="page.html"'),
    "image.svg": ("image/svg+xml", 'attachment; filename="image.svg"'),
    "script.js": ("text/javascript", 'attachment; filename="script.js"'),
    "feed.xml": ("application/xml", 'attachment; filename="feed.xml"'),
    "model.pkl": ("application/octet-stream", 'attachment; filename="model.pkl"'),
    "archive.tar.gz": ("application/octet-stream", 'attachment; filename="archive.tar.gz"'),
    "README": ("application/octet-stream", 'attachment; filename="README"'),
}


@pytest.mark.parametrize(("name", "expected"), CONTENT_TYPES.items(), ids=list(CONTENT_TYPES))
def test_downloads_are_never_run_by_a_browser(user_client, run, name, expected):
    put(run, name, b"<script>alert(1)</script>")

    response = user_client.get(f"{base(run)}/{name}")

    assert (response["Content-Type"], response["Content-Disposition"]) == expected
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_download_has_its_length_and_an_etag(user_client, run):
    put(run, "a.bin", b"0123456789")

    response = user_client.get(f"{base(run)}/a.bin")

    assert response.status_code == 200
    assert response["Content-Length"] == "10"
    assert response["Accept-Ranges"] == "bytes"
    tag = response["ETag"]
    assert user_client.get(f"{base(run)}/a.bin", HTTP_IF_NONE_MATCH=tag).status_code == 304


# Range header -> (status, Content-Range, body) for the file b"0123456789".
RANGES = {
    "bytes=0-3": (206, "bytes 0-3/10", b"0123"),
    "bytes=4-": (206, "bytes 4-9/10", b"456789"),
    "bytes=-3": (206, "bytes 7-9/10", b"789"),
    "bytes=8-100": (206, "bytes 8-9/10", b"89"),
    "bytes=9-9": (206, "bytes 9-9/10", b"9"),
    "bytes=10-": (416, "bytes */10", b""),
    "bytes=-0": (416, "bytes */10", b""),
    "bytes=5-2": (200, None, b"0123456789"),
    "bytes=0-1,4-5": (200, None, b"0123456789"),
    "items=0-1": (200, None, b"0123456789"),
}


@pytest.mark.parametrize(("header", "expected"), RANGES.items(), ids=list(RANGES))
def test_byte_ranges(user_client, run, header, expected):
    put(run, "a.bin", b"0123456789")

    response = user_client.get(f"{base(run)}/a.bin", HTTP_RANGE=header)

    content = body(response) if response.streaming else response.content
    assert (response.status_code, response.get("Content-Range"), content) == expected
    if response.status_code == 206:
        assert response["Content-Length"] == str(len(content))


def test_a_range_for_another_version_of_the_file_gets_the_whole_file(user_client, run):
    put(run, "a.bin", b"0123456789")

    response = user_client.get(f"{base(run)}/a.bin", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"stale"')

    assert (response.status_code, body(response)) == (200, b"0123456789")


def test_logged_models_search_answers_an_empty_page_for_readable_experiments(user_client, other_client, run):
    response = user_client.post(
        "/api/2.0/mlflow/logged-models/search",
        {"experiment_ids": [str(run.project_id)], "filter": "name = 'model'"},
        format="json",
    )
    assert (response.status_code, response.json()) == (200, {"models": []})
    response = other_client.post(
        "/api/2.0/mlflow/logged-models/search", {"experiment_ids": [str(run.project_id)]}, format="json"
    )
    error(response, 403, "PERMISSION_DENIED")
