"""Our REST surface of artifacts: `/experiments/{id}/artifacts/`."""

import io
import os

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from artifacts import services
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(user):
    return ExperimentFactory(owner=user, project=ProjectFactory(owner=user))


def put(experiment, path: str, data: bytes) -> None:
    services.artifact_put(
        actor=experiment.owner, experiment=experiment, path=path, stream=io.BytesIO(data), length=len(data)
    )


def detail(experiment, path: str) -> str:
    return reverse("experiment-artifact-detail", kwargs={"experiment_pk": experiment.pk, "path": path})


def listing(experiment) -> str:
    return reverse("experiment-artifact-list", kwargs={"experiment_pk": experiment.pk})


def stored_files() -> list[str]:
    location = settings.STORAGES["artifacts"]["OPTIONS"]["location"]
    return sorted(os.path.relpath(os.path.join(d, f), location) for d, _, files in os.walk(location) for f in files)


def test_upload_list_download_and_delete(user_client, experiment):
    response = user_client.put(detail(experiment, "plots/loss.png"), b"\x89PNG", content_type="image/png")
    assert (response.status_code, response.json()) == (201, {"path": "plots/loss.png", "is_dir": False, "size": 4})
    user_client.put(detail(experiment, "notes.txt"), b"hello", content_type="text/plain")

    assert user_client.get(listing(experiment)).json() == [
        {"path": "notes.txt", "is_dir": False, "size": 5},
        {"path": "plots", "is_dir": True, "size": None},
    ]
    assert user_client.get(listing(experiment), {"path": "plots"}).json() == [
        {"path": "plots/loss.png", "is_dir": False, "size": 4}
    ]
    download = user_client.get(detail(experiment, "plots/loss.png"))
    assert (download.status_code, b"".join(download.streaming_content)) == (200, b"\x89PNG")
    assert download["Content-Length"] == "4"

    assert user_client.delete(detail(experiment, "plots")).status_code == status.HTTP_204_NO_CONTENT
    assert stored_files() == [f"{experiment.run_uuid}/notes.txt"]


def test_missing_files_and_experiments_answer_404(user_client, experiment):
    assert user_client.get(detail(experiment, "missing.txt")).status_code == 404
    assert user_client.delete(detail(experiment, "missing.txt")).status_code == 404
    assert user_client.get("/experiments/999999/artifacts/").status_code == 404


@pytest.mark.parametrize("path", ["../x", "a//b", "a/", "a\\b", "./a", "n" * 256])
def test_hostile_paths_answer_400_and_store_nothing(user_client, experiment, path):
    assert user_client.put(detail(experiment, path), b"x", content_type="text/plain").status_code == 400
    assert user_client.get(detail(experiment, path)).status_code == 400
    assert user_client.get(listing(experiment), {"path": path}).status_code == 400
    assert stored_files() == []


def test_an_upload_over_the_limit_answers_413_and_stores_nothing(user_client, experiment, settings):
    settings.ARTIFACT_MAX_BYTES = 10
    response = user_client.put(detail(experiment, "big.bin"), b"x" * 11, content_type="application/octet-stream")
    assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    assert stored_files() == []


# Caller -> action -> status, written out. The file `a.txt` exists; the upload writes `b.txt`.
ACTIONS = ("list", "download", "upload", "delete")
TABLE = {
    "anonymous": {"list": 401, "download": 401, "upload": 401, "delete": 401},
    "stranger": {"list": 403, "download": 403, "upload": 403, "delete": 403},
    "viewer": {"list": 200, "download": 200, "upload": 403, "delete": 403},
    "editor": {"list": 200, "download": 200, "upload": 201, "delete": 403},
    "maintainer": {"list": 200, "download": 200, "upload": 201, "delete": 204},
    "project owner": {"list": 200, "download": 200, "upload": 201, "delete": 204},
    "author": {"list": 200, "download": 200, "upload": 201, "delete": 204},
}


def _client(kind: str, experiment) -> APIClient:
    if kind == "anonymous":
        return APIClient()
    if kind in {"viewer", "editor", "maintainer"}:
        return bearer_client(ProjectMembershipFactory(project=experiment.project, role=kind).user)
    return bearer_client(
        {"project owner": experiment.project.owner, "author": experiment.owner}.get(kind) or UserFactory()
    )


@pytest.mark.parametrize(
    ("kind", "action", "expected"),
    [(kind, action, row[action]) for kind, row in TABLE.items() for action in ACTIONS],
    ids=[f"{kind}-{action}" for kind, row in TABLE.items() for action in ACTIONS],
)
def test_the_permission_table(kind, action, expected):
    experiment = ExperimentFactory(project=ProjectFactory())
    put(experiment, "a.txt", b"a")
    client = _client(kind, experiment)

    response = {
        "list": lambda: client.get(listing(experiment)),
        "download": lambda: client.get(detail(experiment, "a.txt")),
        "upload": lambda: client.put(detail(experiment, "b.txt"), b"b", content_type="text/plain"),
        "delete": lambda: client.delete(detail(experiment, "a.txt")),
    }[action]()

    assert response.status_code == expected
    after = {"upload": ["a.txt", "b.txt"], "delete": []}.get(action) if expected in {201, 204} else ["a.txt"]
    assert stored_files() == [f"{experiment.run_uuid}/{name}" for name in after]
