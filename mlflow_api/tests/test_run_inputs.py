"""A run's inputs as MLflow's client logs them (`runs/log-inputs`: datasets with their context, models) and reads them
(`runs/get`, `runs/search`, `experiments/search-datasets`)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from experiments.models import ExperimentStatus
from experiments.tests.factories import ExperimentFactory
from loggedmodels.tests.factories import LoggedModelFactory
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client, snapshot
from runinputs.models import Dataset, DatasetInput

pytestmark = pytest.mark.django_db

API = "/api/2.0/mlflow/"
DATASET = {
    "name": "iris",
    "digest": "abc123",
    "source_type": "local",
    "source": '{"uri": "/data/iris.csv"}',
    "schema": '{"mlflow_colspec": []}',
    "profile": '{"num_rows": 150}',
}
TRAINING = [{"key": "mlflow.data.context", "value": "training"}]


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def error(response, http_status: int, code: str) -> None:
    assert response.status_code == http_status, response.content
    assert response.json()["error_code"] == code


@pytest.fixture
def run(user):
    return ExperimentFactory(owner=user, project=ProjectFactory(owner=user), status=ExperimentStatus.RUNNING)


def log_inputs(client, run, **body):
    return client.post(f"{API}runs/log-inputs", {"run_id": run.run_uuid, **body}, format="json")


def test_a_logged_dataset_shows_in_the_run_and_in_searches(user_client, run):
    model = LoggedModelFactory(project=run.project)
    ok(
        log_inputs(
            user_client, run, datasets=[{"tags": TRAINING, "dataset": DATASET}], models=[{"model_id": model.model_id}]
        )
    )

    expected = {
        "dataset_inputs": [{"tags": TRAINING, "dataset": DATASET}],
        "model_inputs": [{"model_id": model.model_id}],
    }
    assert ok(user_client.get(f"{API}runs/get", {"run_id": run.run_uuid}))["run"]["inputs"] == expected
    found = ok(user_client.post(f"{API}runs/search", {"experiment_ids": [str(run.project_id)]}, format="json"))
    assert [r["inputs"] for r in found["runs"]] == [expected]
    summaries = ok(
        user_client.post(f"{API}experiments/search-datasets", {"experiment_ids": [str(run.project_id)]}, format="json")
    )
    assert summaries == {
        "dataset_summaries": [
            {"experiment_id": str(run.project_id), "name": "iris", "digest": "abc123", "context": "training"}
        ]
    }


def test_a_dataset_is_stored_once_per_project_and_linked_once_per_run(user_client, user, run):
    second = ExperimentFactory(owner=user, project=run.project, status=ExperimentStatus.RUNNING)
    elsewhere = ExperimentFactory(owner=user, project=ProjectFactory(owner=user), status=ExperimentStatus.RUNNING)
    for target in [run, run, second, elsewhere]:
        ok(log_inputs(user_client, target, datasets=[{"tags": TRAINING, "dataset": DATASET}]))
    ok(
        log_inputs(
            user_client, run, datasets=[{"tags": [{"key": "mlflow.data.context", "value": "eval"}], "dataset": DATASET}]
        )
    )
    assert list(Dataset.objects.values_list("project_id", "name")) == [
        (run.project_id, "iris"),
        (elsewhere.project_id, "iris"),
    ]
    assert list(DatasetInput.objects.values_list("run_id", "tags")) == [
        (run.pk, {"mlflow.data.context": "eval"}),
        (second.pk, {"mlflow.data.context": "training"}),
        (elsewhere.pk, {"mlflow.data.context": "training"}),
    ]


BAD = [
    ({"datasets": [{"dataset": {**DATASET, "name": ""}}]}, 400, "INVALID_PARAMETER_VALUE"),
    ({"datasets": [{"dataset": {**DATASET, "digest": "x" * 37}}]}, 400, "INVALID_PARAMETER_VALUE"),
    ({"datasets": [{"dataset": {**DATASET, "source": 3}}]}, 400, "INVALID_PARAMETER_VALUE"),
    ({"datasets": [{"tags": [{"key": "k" * 256, "value": "v"}], "dataset": DATASET}]}, 400, "INVALID_PARAMETER_VALUE"),
    ({"datasets": [{"tags": TRAINING}]}, 400, "INVALID_PARAMETER_VALUE"),
    ({"datasets": "iris"}, 400, "INVALID_PARAMETER_VALUE"),
    ({"models": [{"model_id": "m-0"}]}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ({"models": [{}]}, 400, "INVALID_PARAMETER_VALUE"),
]


@pytest.mark.parametrize(("body", "http_status", "code"), BAD)
def test_bad_inputs_get_mlflow_json_4xx_and_change_nothing(user_client, run, body, http_status, code):
    before = snapshot()
    error(log_inputs(user_client, run, **body), http_status, code)
    assert snapshot() == before


# Caller -> route -> status, written out.
TABLE = {
    "anonymous": {"log-inputs": 401, "search-datasets": 401, "get": 401},
    "stranger": {"log-inputs": 403, "search-datasets": 403, "get": 403},
    "viewer": {"log-inputs": 403, "search-datasets": 200, "get": 200},
    "editor": {"log-inputs": 200, "search-datasets": 200, "get": 200},
    "maintainer": {"log-inputs": 200, "search-datasets": 200, "get": 200},
    "owner": {"log-inputs": 200, "search-datasets": 200, "get": 200},
}


def _caller(kind: str, project) -> APIClient:
    if kind == "anonymous":
        return APIClient()
    if kind in {"viewer", "editor", "maintainer"}:
        return bearer_client(ProjectMembershipFactory(project=project, role=kind).user)
    if kind == "owner":
        return bearer_client(project.owner)
    return bearer_client(UserFactory())


@pytest.mark.parametrize(
    ("kind", "route", "expected"),
    [(kind, route, row[route]) for kind, row in TABLE.items() for route in row],
    ids=[f"{kind}-{route}" for kind, row in TABLE.items() for route in row],
)
def test_the_permission_table_of_run_inputs(kind, route, expected):
    project = ProjectFactory()
    run = ExperimentFactory(owner=project.owner, project=project, status=ExperimentStatus.RUNNING)
    client = _caller(kind, project)
    before = snapshot()
    if route == "log-inputs":
        response = log_inputs(client, run, datasets=[{"tags": TRAINING, "dataset": DATASET}])
    elif route == "search-datasets":
        response = client.post(
            f"{API}experiments/search-datasets", {"experiment_ids": [str(project.pk)]}, format="json"
        )
    else:
        response = client.get(f"{API}runs/get", {"run_id": run.run_uuid})
    assert response.status_code == expected, response.content
    if expected != 200 or route != "log-inputs":
        assert snapshot() == before


def test_runs_are_searched_by_their_datasets(user_client, user, run):
    evaluated = ExperimentFactory(owner=user, project=run.project, status=ExperimentStatus.RUNNING, name="evaluated")
    ExperimentFactory(owner=user, project=run.project, status=ExperimentStatus.RUNNING, name="none")
    run.name = "trained"
    run.save()
    ok(log_inputs(user_client, run, datasets=[{"tags": TRAINING, "dataset": DATASET}]))
    other = {**DATASET, "name": "wine", "digest": "d2"}
    ok(
        log_inputs(
            user_client,
            evaluated,
            datasets=[{"tags": [{"key": "mlflow.data.context", "value": "eval"}], "dataset": other}],
        )
    )

    def names(filter_string: str) -> list[str]:
        body = {"experiment_ids": [str(run.project_id)], "filter": filter_string, "order_by": ["attributes.run_name"]}
        return [r["info"]["run_name"] for r in ok(user_client.post(f"{API}runs/search", body, format="json"))["runs"]]

    assert names("datasets.context = 'training'") == ["trained"]
    assert names("datasets.name = 'wine'") == ["evaluated"]
    assert names("datasets.digest IN ('abc123', 'd2')") == ["evaluated", "trained"]
    assert names("dataset.name LIKE 'w%' and datasets.context = 'eval'") == ["evaluated"]
    assert names("datasets.context != 'training'") == ["evaluated"]
    error(
        user_client.post(f"{API}runs/search", {"order_by": ["datasets.name"]}, format="json"),
        400,
        "INVALID_PARAMETER_VALUE",
    )
