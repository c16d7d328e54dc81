"""Who may make which MLflow call: every kind of caller against the tracking routes, written as data, on the same
world and with the same checks as the REST API's tables (registry.tests.matrix)."""

import pytest

from experiments.models import RunTag
from registry.tests import matrix
from registry.tests.matrix import EXPERIMENT_CALLERS, Action

API = "/api/2.0/mlflow/"


def _run(world) -> dict:
    return {"run_id": world.experiment.run_uuid}


def _tagged(world) -> None:
    RunTag.objects.create(experiment=world.experiment, key="team", value="cv")


def _post(route: str, body=lambda w: {}, prepare=None) -> Action:
    return Action("post", lambda w: API + route, body, prepare=prepare)


def _get(route: str, params) -> Action:
    return Action("get", lambda w: API + route, params=params)


MLFLOW_ACTIONS = {
    "runs/get": Action("get", lambda w: f"{API}runs/get?run_id={w.experiment.run_uuid}"),
    "experiments/get": Action("get", lambda w: f"{API}experiments/get?experiment_id={w.project.pk}"),
    "log-metric": _post("runs/log-metric", lambda w: {**_run(w), "key": "m", "value": 1.0, "timestamp": 1}),
    "log-batch": _post(
        "runs/log-batch",
        lambda w: {
            **_run(w),
            "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
            "params": [{"key": "lr", "value": "0.1"}],
            "tags": [{"key": "stage", "value": "dev"}],
        },
    ),
    "log-parameter": _post("runs/log-parameter", lambda w: {**_run(w), "key": "lr", "value": "0.1"}),
    "set-tag": _post("runs/set-tag", lambda w: {**_run(w), "key": "stage", "value": "dev"}),
    "delete-tag": _post("runs/delete-tag", lambda w: {**_run(w), "key": "team"}, prepare=_tagged),
    "runs/update": _post("runs/update", lambda w: {**_run(w), "run_name": "renamed"}),
    "runs/delete": _post("runs/delete", _run),
    "runs/create": _post("runs/create", lambda w: {"experiment_id": str(w.project.pk)}),
    "experiments/update": _post(
        "experiments/update", lambda w: {"experiment_id": str(w.project.pk), "new_name": "renamed"}
    ),
    "experiments/delete": _post("experiments/delete", lambda w: {"experiment_id": str(w.project.pk)}),
}


def _row(*statuses: int) -> dict[str, int]:
    return dict(zip(MLFLOW_ACTIONS, statuses, strict=True))


# The run is the world's `baseline`, in the shared project; its `author` owns it and is a viewer of the project.
# fmt: off
MLFLOW_TABLE = {
    #               runs/get, exp/get, log-metric, log-batch, log-param, set-tag, del-tag, runs/update, runs/delete,
    #               runs/create, exp/update, exp/delete
    "anonymous":  _row(401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
    "stranger":   _row(403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "staff":      _row(403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "expired":    _row(403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "viewer":     _row(200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "editor":     _row(200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403, 403),
    "maintainer": _row(200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "owner":      _row(200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "superuser":  _row(200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "author":     _row(200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403),
}
# fmt: on


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "name", "expected"), matrix.cases(MLFLOW_TABLE, MLFLOW_ACTIONS, EXPERIMENT_CALLERS))
def test_mlflow_access_table(kind, name, expected):
    matrix.check(kind, MLFLOW_ACTIONS[name], expected)
