import base64
import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import status
from rest_framework.test import APIClient

from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment, ExperimentStatus, RunTag
from experiments.tests.factories import ExperimentFactory
from mlflow_api import services as mlflow
from mlflow_api.urls import ROUTES
from projects.models import Project, ProjectMembership, ProjectTag
from projects.tests.factories import ProjectFactory
from registry.tests.support import bearer_client, snapshot
from tokens.tests.factories import PersonalAccessTokenFactory
from tracking import services as tracking
from tracking.models import LatestMetric, MetricPoint

pytestmark = pytest.mark.django_db

API = "/api/2.0/mlflow/"


def call(client, path: str, body: dict | None = None, method: str = "POST"):
    if method == "GET":
        return client.get(API + path, body or {})
    return client.post(API + path, body or {}, format="json")


def ok(response) -> dict:
    assert response.status_code == status.HTTP_200_OK, response.content
    return response.json()


def error(response, http_status: int, code: str) -> str:
    assert response.status_code == http_status, response.content
    body = response.json()
    assert body["error_code"] == code
    return body["message"]


def make_run(client, experiment_id: str, **extra) -> dict:
    body = {"experiment_id": experiment_id, "start_time": 1_700_000_000_000, "tags": [], **extra}
    return ok(call(client, "runs/create", body))["run"]


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user, name="demo")


# ---------------------------------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------------------------------


def test_set_experiment_sequence_unknown_name_is_404_then_create_then_get(user_client, user):
    message = error(
        call(user_client, "experiments/get-by-name", {"experiment_name": "new"}, "GET"), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert "new" in message
    created = ok(call(user_client, "experiments/create", {"name": "new", "tags": [{"key": "team", "value": "cv"}]}))
    project = Project.objects.get(owner=user, name="new")
    assert created == {"experiment_id": str(project.pk)}
    experiment = ok(call(user_client, "experiments/get", {"experiment_id": str(project.pk)}, "GET"))["experiment"]
    assert experiment["experiment_id"] == str(project.pk)
    assert experiment["name"] == "new"
    assert experiment["lifecycle_stage"] == "active"
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{project.pk}"
    assert experiment["tags"] == [{"key": "team", "value": "cv"}]
    assert isinstance(experiment["creation_time"], int) and isinstance(experiment["last_update_time"], int)
    by_name = ok(call(user_client, "experiments/get-by-name", {"experiment_name": "new"}, "GET"))["experiment"]
    assert by_name["experiment_id"] == str(project.pk)


def test_create_with_a_name_the_caller_has_is_resource_already_exists(user_client, project):
    error(call(user_client, "experiments/create", {"name": "DEMO"}), 400, "RESOURCE_ALREADY_EXISTS")


def test_a_name_taken_by_someone_else_is_free_and_not_visible(user_client, other_user):
    ProjectFactory(owner=other_user, name="shared-name")
    error(
        call(user_client, "experiments/get-by-name", {"experiment_name": "shared-name"}, "GET"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    ok(call(user_client, "experiments/create", {"name": "shared-name"}))


def test_get_by_name_prefers_the_callers_own_project(user_client, user, other_user):
    theirs = ProjectFactory(owner=other_user, name="same")
    ProjectMembership.objects.create(project=theirs, user=user, role="viewer")
    found = ok(call(user_client, "experiments/get-by-name", {"experiment_name": "same"}, "GET"))["experiment"]
    assert found["experiment_id"] == str(theirs.pk)
    mine = ProjectFactory(owner=user, name="same")
    found = ok(call(user_client, "experiments/get-by-name", {"experiment_name": "same"}, "GET"))["experiment"]
    assert found["experiment_id"] == str(mine.pk)


def test_rename_tags_and_description(user_client, project):
    pk = str(project.pk)
    ok(call(user_client, "experiments/update", {"experiment_id": pk, "new_name": "renamed"}))
    ok(call(user_client, "experiments/set-experiment-tag", {"experiment_id": pk, "key": "k", "value": "v"}))
    ok(call(user_client, "experiments/set-experiment-tag", {"experiment_id": pk, "key": "k", "value": "v2"}))
    ok(
        call(
            user_client,
            "experiments/set-experiment-tag",
            {"experiment_id": pk, "key": "mlflow.note.content", "value": "notes"},
        )
    )
    experiment = ok(call(user_client, "experiments/get", {"experiment_id": pk}, "GET"))["experiment"]
    assert experiment["name"] == "renamed"
    assert experiment["tags"] == [{"key": "k", "value": "v2"}, {"key": "mlflow.note.content", "value": "notes"}]
    project.refresh_from_db()
    assert project.description == "notes"
    ok(call(user_client, "experiments/delete-experiment-tag", {"experiment_id": pk, "key": "k"}))
    assert not ProjectTag.objects.filter(project=project).exists()
    error(
        call(user_client, "experiments/delete-experiment-tag", {"experiment_id": pk, "key": "k"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_rename_to_a_taken_name_is_resource_already_exists(user_client, user, project):
    ProjectFactory(owner=user, name="other")
    body = {"experiment_id": str(project.pk), "new_name": "Other"}
    error(call(user_client, "experiments/update", body), 400, "RESOURCE_ALREADY_EXISTS")


def test_delete_and_restore_an_experiment_cascade_to_its_runs(user_client, project):
    run = make_run(user_client, str(project.pk))
    ok(call(user_client, "experiments/delete", {"experiment_id": str(project.pk)}))
    got = ok(call(user_client, "experiments/get", {"experiment_id": str(project.pk)}, "GET"))["experiment"]
    assert got["lifecycle_stage"] == "deleted"
    assert (
        ok(call(user_client, "runs/get", {"run_id": run["info"]["run_id"]}, "GET"))["run"]["info"]["lifecycle_stage"]
        == "deleted"
    )
    active = ok(call(user_client, "experiments/search", {"view_type": "ACTIVE_ONLY"}))["experiments"]
    assert [e["name"] for e in active] == ["Default"]
    deleted = ok(call(user_client, "experiments/search", {"view_type": "DELETED_ONLY"}))["experiments"]
    assert [e["name"] for e in deleted] == ["demo"]
    ok(call(user_client, "experiments/restore", {"experiment_id": str(project.pk)}))
    assert Experiment.objects.get().lifecycle_stage == "active"
    assert Project.objects.get().lifecycle_stage == "active"


def test_experiments_search_filters_orders_and_pages(user_client, user, other_user):
    for name in ["alpha", "beta", "alpine", "gamma"]:
        ProjectFactory(owner=user, name=name)
    ProjectFactory(owner=other_user, name="alps")
    body = {"filter": "name LIKE 'al%'", "order_by": ["name DESC"], "max_results": 1}
    first = ok(call(user_client, "experiments/search", body))
    assert [e["name"] for e in first["experiments"]] == ["alpine"]
    second = ok(call(user_client, "experiments/search", {**body, "page_token": first["next_page_token"]}))
    assert [e["name"] for e in second["experiments"]] == ["alpha"]
    assert "next_page_token" not in second


def test_experiments_search_by_tag(user_client, user):
    tagged = ProjectFactory(owner=user, name="tagged")
    ProjectFactory(owner=user, name="plain")
    ProjectTag.objects.create(project=tagged, key="team", value="vision")
    found = ok(call(user_client, "experiments/search", {"filter": "tags.team = 'vision'"}))["experiments"]
    assert [e["name"] for e in found] == ["tagged"]


# ---------------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------------


def test_create_run_without_a_name_gets_a_generated_one_and_the_tag(user_client, user, project):
    run = make_run(user_client, str(project.pk), user_id="root", tags=[{"key": "mlflow.user", "value": "root"}])
    info = run["info"]
    assert len(info["run_id"]) == 32 and info["run_id"] == info["run_uuid"]
    assert info["status"] == "RUNNING"
    assert info["experiment_id"] == str(project.pk)
    assert info["user_id"] == user.username
    assert info["start_time"] == 1_700_000_000_000
    assert "end_time" not in info
    assert info["artifact_uri"] == f"mlflow-artifacts:/{project.pk}/{info['run_id']}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"mlflow.user": "root", "mlflow.runName": info["run_name"]}
    assert len(info["run_name"].split("-")) == 3
    stored = Experiment.objects.get(run_uuid=info["run_id"])
    assert (stored.owner_id, stored.project_id, stored.status) == (user.pk, project.pk, ExperimentStatus.RUNNING)


def test_experiment_0_is_the_callers_default_project_made_once(user_client, user):
    first = make_run(user_client, "0", run_name="a")
    second = make_run(user_client, "0", run_name="b", start_time=1_700_000_000_001)
    default = Project.objects.get(owner=user)
    assert default.name == "Default"
    assert first["info"]["experiment_id"] == second["info"]["experiment_id"] == str(default.pk)


def test_ten_creates_with_one_start_time_and_no_name_make_ten_runs(user_client, project):
    # As MLflow's server does: distinct runs started in the same millisecond are not one run replayed.
    runs = [make_run(user_client, str(project.pk), start_time=1) for _ in range(10)]
    assert len({run["info"]["run_id"] for run in runs}) == 10
    assert Experiment.objects.filter(project=project).count() == 10


def test_two_creates_with_one_name_and_start_time_make_two_runs(user_client, project):
    first = make_run(user_client, str(project.pk), run_name="same")
    second = make_run(user_client, str(project.pk), run_name="same")
    assert first["info"]["run_id"] != second["info"]["run_id"]
    assert list(Experiment.objects.filter(project=project).values_list("name", flat=True)) == ["same", "same"]


def test_log_metric_param_tag_and_read_back(user_client, project):
    run_id = make_run(user_client, str(project.pk), run_name="r")["info"]["run_id"]
    for step, value in enumerate([0.9, 0.5, 0.7]):
        body = {
            "run_id": run_id,
            "run_uuid": run_id,
            "key": "loss",
            "value": value,
            "timestamp": 1000 + step,
            "step": step,
        }
        ok(call(user_client, "runs/log-metric", body))
    ok(call(user_client, "runs/log-metric", {"run_id": run_id, "key": "nan", "value": "NaN", "timestamp": 5}))
    ok(call(user_client, "runs/log-metric", {"run_id": run_id, "key": "inf", "value": "Infinity", "timestamp": 5}))
    ok(call(user_client, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.01"}))
    ok(call(user_client, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.01"}))
    message = error(
        call(user_client, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.02"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "Changing param values is not allowed" in message
    ok(call(user_client, "runs/set-tag", {"run_id": run_id, "key": "team", "value": "vision"}))
    run = ok(call(user_client, "runs/get", {"run_id": run_id, "run_uuid": run_id}, "GET"))["run"]
    metrics = {m["key"]: (m["value"], m["step"], m["timestamp"]) for m in run["data"]["metrics"]}
    assert metrics == {"inf": ("Infinity", 0, 5), "loss": (0.7, 2, 1002), "nan": ("NaN", 0, 5)}
    assert run["data"]["params"] == [{"key": "lr", "value": "0.01"}]
    assert {"key": "team", "value": "vision"} in run["data"]["tags"]
    history = ok(call(user_client, "metrics/get-history", {"run_id": run_id, "metric_key": "loss"}, "GET"))
    assert history == {
        "metrics": [
            {"key": "loss", "value": 0.9, "timestamp": 1000, "step": 0},
            {"key": "loss", "value": 0.5, "timestamp": 1001, "step": 1},
            {"key": "loss", "value": 0.7, "timestamp": 1002, "step": 2},
        ]
    }
    assert ok(call(user_client, "metrics/get-history", {"run_id": run_id, "metric_key": "none"}, "GET")) == {
        "metrics": []
    }


def test_get_history_pages_with_a_token(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    metrics = [{"key": "m", "value": float(i), "timestamp": 10, "step": i} for i in range(5)]
    ok(call(user_client, "runs/log-batch", {"run_id": run_id, "metrics": metrics}))
    first = ok(
        call(user_client, "metrics/get-history", {"run_id": run_id, "metric_key": "m", "max_results": "3"}, "GET")
    )
    assert [m["step"] for m in first["metrics"]] == [0, 1, 2]
    body = {"run_id": run_id, "metric_key": "m", "max_results": "3", "page_token": first["next_page_token"]}
    second = ok(call(user_client, "metrics/get-history", body, "GET"))
    assert [m["step"] for m in second["metrics"]] == [3, 4]
    assert "next_page_token" not in second


def test_log_batch_stores_all_and_a_replay_stores_nothing_new(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": i / 10, "timestamp": 7, "step": i} for i in range(1000)],
        "params": [{"key": f"p{i}", "value": str(i)} for i in range(5)],
        "tags": [{"key": "t", "value": "v"}],
    }
    ok(call(user_client, "runs/log-batch", body))
    ok(call(user_client, "runs/log-batch", body))
    experiment = Experiment.objects.get(run_uuid=run_id)
    assert MetricPoint.objects.filter(experiment=experiment).count() == 1000
    assert LatestMetric.objects.get(experiment=experiment).step == 999
    assert experiment.parameters == {"p0": "0", "p1": "1", "p2": "2", "p3": "3", "p4": "4"}
    assert RunTag.objects.get(experiment=experiment, key="t").value == "v"


def test_a_batch_of_params_tags_and_metrics_locks_its_run_once(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    body = {"run_id": run_id, "metrics": [{"key": "m", "value": 1.0, "timestamp": 7, "step": 0}]}
    body.update(params=[{"key": "p", "value": "1"}], tags=[{"key": "t", "value": "v"}])
    table = connection.ops.quote_name(Experiment._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        ok(call(user_client, "runs/log-batch", body))
    # The lock (experiments.services.experiment_lock), with FOR UPDATE where the database has row locks.
    locks = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'SELECT "status" FROM {table} WHERE')]
    assert len(locks) == 1


def test_a_bad_batch_changes_nothing(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1, "timestamp": 7, "step": 0}],
        "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "bad*key", "value": "v"}],
    }
    error(call(user_client, "runs/log-batch", body), 400, "INVALID_PARAMETER_VALUE")
    assert MetricPoint.objects.count() == 0
    assert Experiment.objects.get().parameters == {}


def test_update_run_status_end_time_and_name(user_client, project):
    run_id = make_run(user_client, str(project.pk), run_name="before")["info"]["run_id"]
    body = {"run_id": run_id, "run_uuid": run_id, "status": "FAILED", "end_time": 1_700_000_100_000}
    info = ok(call(user_client, "runs/update", body))["run_info"]
    assert (info["status"], info["end_time"]) == ("FAILED", 1_700_000_100_000)
    ok(call(user_client, "runs/update", {"run_id": run_id, "status": "FAILED", "run_name": "after"}))
    run = ok(call(user_client, "runs/get", {"run_id": run_id}, "GET"))["run"]
    assert run["info"]["run_name"] == "after"
    assert {"key": "mlflow.runName", "value": "after"} in run["data"]["tags"]
    # Resuming a finished run, as start_run(run_id=...) does.
    body = {"run_id": run_id, "status": "RUNNING", "end_time": 1_700_000_100_000}
    assert ok(call(user_client, "runs/update", body))["run_info"]["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("mlflow_status", "ours"),
    [
        ("RUNNING", "running"),
        ("FINISHED", "completed"),
        ("FAILED", "failed"),
        ("KILLED", "cancelled"),
        ("SCHEDULED", "draft"),
    ],
)
def test_statuses_map_both_ways(user_client, project, mlflow_status, ours):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    ok(call(user_client, "runs/update", {"run_id": run_id, "status": mlflow_status}))
    assert Experiment.objects.get().status == ours
    assert ok(call(user_client, "runs/get", {"run_id": run_id}, "GET"))["run"]["info"]["status"] == mlflow_status


def test_lowercase_status_is_refused(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    error(call(user_client, "runs/update", {"run_id": run_id, "status": "failed"}), 400, "INVALID_PARAMETER_VALUE")


def test_set_tag_run_name_renames_and_delete_tag(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    ok(call(user_client, "runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "renamed"}))
    assert Experiment.objects.get().name == "renamed"
    ok(call(user_client, "runs/set-tag", {"run_id": run_id, "key": "x", "value": "1"}))
    ok(call(user_client, "runs/delete-tag", {"run_id": run_id, "key": "x"}))
    error(call(user_client, "runs/delete-tag", {"run_id": run_id, "key": "x"}), 400, "INVALID_PARAMETER_VALUE")


def test_labels_show_as_empty_tags_and_run_tags_show_in_rest(user_client, user, project):
    experiment = ExperimentFactory(owner=user, project=project, tags=["baseline"])
    run_id = experiment.run_uuid
    ok(call(user_client, "runs/set-tag", {"run_id": run_id, "key": "team", "value": "cv"}))
    run = ok(call(user_client, "runs/get", {"run_id": run_id}, "GET"))["run"]
    assert run["data"]["tags"] == [{"key": "team", "value": "cv"}, {"key": "baseline", "value": ""}]
    rest = user_client.get(f"/experiments/{experiment.pk}/").json()
    assert (rest["run_tags"], rest["tags"], rest["run_id"]) == ({"team": "cv"}, ["baseline"], run_id)
    ok(call(user_client, "runs/delete-tag", {"run_id": run_id, "key": "baseline"}))
    experiment.refresh_from_db()
    assert experiment.tags == []


def test_delete_and_restore_a_run(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    ok(call(user_client, "runs/delete", {"run_id": run_id}))
    assert ok(call(user_client, "runs/get", {"run_id": run_id}, "GET"))["run"]["info"]["lifecycle_stage"] == "deleted"
    search = {"experiment_ids": [str(project.pk)], "filter": ""}
    assert ok(call(user_client, "runs/search", search)) == {"runs": []}
    deleted = ok(call(user_client, "runs/search", {**search, "run_view_type": "DELETED_ONLY"}))["runs"]
    assert [r["info"]["run_id"] for r in deleted] == [run_id]
    assert user_client.get(f"/experiments/{Experiment.objects.get().pk}/").json()["lifecycle_stage"] == "deleted"
    ok(call(user_client, "runs/restore", {"run_id": run_id}))
    assert Experiment.objects.get().lifecycle_stage == "active"


# ---------------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def searchable(user_client, project):
    """Four runs: (name, loss, lr, team, status)."""
    rows = [
        ("train-a", 0.3, "0.01", "vision", "FINISHED"),
        ("train-b", 0.6, "0.01", "nlp", "FAILED"),
        ("eval-c", 0.1, "0.1", "vision", "FAILED"),
        ("train-d", None, "0.01", None, "RUNNING"),
    ]
    ids = {}
    for index, (name, loss, lr, team, run_status) in enumerate(rows):
        run_id = make_run(user_client, str(project.pk), run_name=name, start_time=1_700_000_000_000 + index)["info"][
            "run_id"
        ]
        body = {"run_id": run_id, "params": [{"key": "lr", "value": lr}], "metrics": [], "tags": []}
        if loss is not None:
            body["metrics"] = [{"key": "loss", "value": loss, "timestamp": 1, "step": 0}]
        if team is not None:
            body["tags"] = [{"key": "team", "value": team}]
        ok(call(user_client, "runs/log-batch", body))
        ok(call(user_client, "runs/update", {"run_id": run_id, "status": run_status}))
        ids[name] = run_id
    return ids


def _names(client, project, **body) -> list[str]:
    answer = ok(call(client, "runs/search", {"experiment_ids": [str(project.pk)], **body}))
    return [run["info"]["run_name"] for run in answer.get("runs", [])]


@pytest.mark.parametrize(
    ("filter_string", "order_by", "expected"),
    [
        ("", [], ["train-d", "eval-c", "train-b", "train-a"]),
        ("metrics.loss < 0.5", ["metrics.loss ASC"], ["eval-c", "train-a"]),
        ("metrics.loss < 0.5 and params.lr = '0.01'", [], ["train-a"]),
        ("metrics.loss != 0.3", ["metrics.loss DESC"], ["train-b", "eval-c"]),
        ("", ["metrics.loss DESC"], ["train-b", "train-a", "eval-c", "train-d"]),
        ("", ["metrics.loss ASC"], ["eval-c", "train-a", "train-b", "train-d"]),
        ("metrics.loss > 0.1 and metrics.loss <= 0.6", ["metrics.loss DESC"], ["train-b", "train-a"]),
        ("metrics.loss < 0.5", ["metrics.loss DESC"], ["train-a", "eval-c"]),
        ("params.lr = '0.01'", ["metrics.loss DESC"], ["train-b", "train-a", "train-d"]),
        ("params.lr = '0.01'", ["metrics.loss ASC"], ["train-a", "train-b", "train-d"]),
        ("metrics.loss >= 0.1", ["attributes.run_name"], ["eval-c", "train-a", "train-b"]),
        ("metrics.loss > 0.2", ["metrics.loss ASC", "attributes.run_name"], ["train-a", "train-b"]),
        ("metrics.loss = 0.3", ["metrics.loss"], ["train-a"]),
        ("attributes.status = 'FAILED' and tags.team = 'vision'", [], ["eval-c"]),
        ("attributes.run_name LIKE 'train%'", ["attributes.run_name"], ["train-a", "train-b", "train-d"]),
        ("attributes.run_name ILIKE 'TRAIN-_'", ["attributes.run_name DESC"], ["train-d", "train-b", "train-a"]),
        ("tags.team IS NULL", [], ["train-d"]),
        ("tags.`team` != 'vision'", [], ["train-b"]),
        ("params.lr LIKE '0.1'", [], ["eval-c"]),
        ("attributes.status != 'FAILED'", ["attributes.start_time ASC"], ["train-a", "train-d"]),
        ("attributes.start_time >= 1700000000002", ["attribute.start_time"], ["eval-c", "train-d"]),
    ],
)
def test_runs_search(user_client, project, searchable, filter_string, order_by, expected):
    assert _names(user_client, project, filter=filter_string, order_by=order_by) == expected


def test_a_searched_run_shows_its_metrics_params_and_tags_as_runs_get_does(user_client, project):
    run_id = make_run(user_client, str(project.pk), run_name="shown")["info"]["run_id"]
    metrics = [
        {"key": "a", "value": 0.30000000000000004, "timestamp": 7, "step": 3},
        {"key": "b", "value": "-Infinity", "timestamp": 8, "step": 0},
        {"key": "c", "value": "NaN", "timestamp": 9, "step": 1},
        {"key": "d", "value": 1e-300, "timestamp": 2**40, "step": 2**40},
    ]
    params = [{"key": "lr", "value": "0.01"}]
    tags = [{"key": "team", "value": "vision"}, {"key": "stage", "value": ""}]
    ok(call(user_client, "runs/log-batch", {"run_id": run_id, "metrics": metrics, "params": params, "tags": tags}))

    searched = ok(call(user_client, "runs/search", {"experiment_ids": [str(project.pk)]}))["runs"]
    got = ok(call(user_client, "runs/get", {"run_id": run_id}, "GET"))["run"]

    assert [run["info"]["run_id"] for run in searched] == [run_id]
    assert searched[0]["data"]["metrics"] == [
        {"key": "a", "value": 0.30000000000000004, "timestamp": 7, "step": 3},
        {"key": "b", "value": "-Infinity", "timestamp": 8, "step": 0},
        {"key": "c", "value": "NaN", "timestamp": 9, "step": 1},
        {"key": "d", "value": 1e-300, "timestamp": 2**40, "step": 2**40},
    ]
    assert searched[0]["data"]["params"] == [{"key": "lr", "value": "0.01"}]
    assert sorted(searched[0]["data"]["tags"], key=lambda tag: tag["key"]) == [
        {"key": "mlflow.runName", "value": "shown"},
        {"key": "stage", "value": ""},
        {"key": "team", "value": "vision"},
    ]
    assert searched[0]["data"]["metrics"] == got["data"]["metrics"]
    assert sorted(searched[0]["data"]["tags"], key=str) == sorted(got["data"]["tags"], key=str)


def test_runs_search_by_run_id_in(user_client, project, searchable):
    wanted = f"attributes.run_id IN ('{searchable['train-a']}', '{searchable['eval-c']}')"
    assert _names(user_client, project, filter=wanted, order_by=["attributes.run_name"]) == ["eval-c", "train-a"]


def test_runs_search_by_parent_run_tag(user_client, project):
    parent = make_run(user_client, str(project.pk), run_name="parent")["info"]["run_id"]
    tags = [{"key": "mlflow.parentRunId", "value": parent}]
    make_run(user_client, str(project.pk), run_name="child", tags=tags, start_time=1_700_000_000_005)
    assert _names(user_client, project, filter=f"tags.mlflow.parentRunId = '{parent}'") == ["child"]


def test_runs_search_pages(user_client, project, searchable):
    first = ok(call(user_client, "runs/search", {"experiment_ids": [str(project.pk)], "max_results": 3}))
    assert len(first["runs"]) == 3
    rest = ok(
        call(
            user_client,
            "runs/search",
            {"experiment_ids": [str(project.pk)], "max_results": 3, "page_token": first["next_page_token"]},
        )
    )
    assert [r["info"]["run_name"] for r in rest["runs"]] == ["train-a"]


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.loss < 0.5 or metrics.loss > 0.9",
        "metrics.loss",
        "metrics.loss < 'a'",
        "params.lr > 1",
        "foo.bar = 1",
        "attributes.nothing = 'x'",
        "metrics.loss <",
        "datasets.size = 'x'",
        "datasets.name > 'x'",
    ],
)
def test_bad_filters_are_invalid_parameter_value(user_client, project, filter_string):
    body = {"experiment_ids": [str(project.pk)], "filter": filter_string}
    error(call(user_client, "runs/search", body), 400, "INVALID_PARAMETER_VALUE")


def test_bad_page_token_and_max_results_are_400(user_client, project):
    body = {"experiment_ids": [str(project.pk)]}
    error(call(user_client, "runs/search", {**body, "page_token": "nope"}), 400, "INVALID_PARAMETER_VALUE")
    error(call(user_client, "runs/search", {**body, "max_results": 50_001}), 400, "INVALID_PARAMETER_VALUE")
    assert ok(call(user_client, "runs/search", {**body, "max_results": 50_000})) == {"runs": []}


def test_search_returns_only_what_the_caller_may_read(user_client, user, other_user, client_for):
    theirs = ProjectFactory(owner=other_user, name="theirs")
    make_run(client_for(other_user), str(theirs.pk), run_name="secret")
    assert _names(user_client, theirs) == []
    assert [e["name"] for e in ok(call(user_client, "experiments/search", {}))["experiments"]] == ["Default"]
    ProjectMembership.objects.create(project=theirs, user=user, role="viewer")
    assert _names(user_client, theirs) == ["secret"]


# ---------------------------------------------------------------------------------------------------------------------
# Access and errors
# ---------------------------------------------------------------------------------------------------------------------

# Who may make which call: test_access_table.


def test_no_token_is_401_unauthenticated(api_client):
    error(call(api_client, "experiments/search", {}), 401, "UNAUTHENTICATED")
    error(call(api_client, "experiments/get-by-name", {"experiment_name": "x"}, "GET"), 401, "UNAUTHENTICATED")


def test_bad_token_is_401_unauthenticated(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    error(call(api_client, "runs/create", {"experiment_id": "0"}), 401, "UNAUTHENTICATED")


def test_unknown_routes_are_endpoint_not_found(user_client, api_client):
    error(call(user_client, "runs/nothing", {}), 404, "ENDPOINT_NOT_FOUND")
    error(call(api_client, "nothing", {}, "GET"), 404, "ENDPOINT_NOT_FOUND")


def test_wrong_method_is_a_json_error(user_client):
    response = call(user_client, "runs/get", {"run_id": "x"})
    assert response.status_code == 405
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_multipart_artifact_uploads_answer_501_not_implemented(user_client):
    response = user_client.post("/api/2.0/mlflow-artifacts/mpu/create/1/abc/artifacts/x.txt", {}, format="json")
    assert response.status_code == 501
    assert response.json()["error_code"] == "NOT_IMPLEMENTED"


@pytest.mark.parametrize(
    ("path", "body", "method", "http_status", "code"),
    [
        ("runs/get", {"run_id": "0" * 32}, "GET", 404, "RESOURCE_DOES_NOT_EXIST"),
        ("runs/get", {}, "GET", 400, "INVALID_PARAMETER_VALUE"),
        ("experiments/get", {"experiment_id": "999999"}, "GET", 404, "RESOURCE_DOES_NOT_EXIST"),
        ("experiments/get", {"experiment_id": "abc"}, "GET", 400, "INVALID_PARAMETER_VALUE"),
        ("experiments/create", {}, "POST", 400, "INVALID_PARAMETER_VALUE"),
        ("experiments/create", {"name": "x" * 300}, "POST", 400, "INVALID_PARAMETER_VALUE"),
        (
            "runs/log-metric",
            {"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1},
            "POST",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        ("runs/search", {"experiment_ids": "1", "max_results": "many"}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_deterministic_errors_are_4xx_mlflow_json(user_client, path, body, method, http_status, code):
    error(call(user_client, path, body, method), http_status, code)


# What MLflow 3.17.2's server answers (status, error_code) to each malformed request, read from a running server: a
# string field given as another JSON type, an experiment id that is no integer, a run id of a shape no run has where
# the server checks it (log-batch, log-inputs), and where it does not (404, as for a run that does not exist).
MLFLOW_VALIDATION_ANSWERS = [
    ("experiments/create", {"name": 123}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("experiments/create", {"name": ["x"]}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("experiments/create", {"name": ""}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("experiments/get", {"experiment_id": "a b"}, "GET", 400, "INVALID_PARAMETER_VALUE"),
    ("experiments/get", {"experiment_id": "-1"}, "GET", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("experiments/get", {"experiment_id": "12345"}, "GET", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("experiments/update", {"experiment_id": "abc", "new_name": "x"}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("experiments/delete", {"experiment_id": "abc"}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/create", {"experiment_id": "abc"}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/create", {"experiment_id": 5}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/search", {"experiment_ids": ["abc"]}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/get", {"run_id": "not a run!"}, "GET", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("runs/get", {}, "GET", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/log-batch", {"run_id": "bad id", "metrics": []}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/log-inputs", {"run_id": "bad id", "datasets": []}, "POST", 400, "INVALID_PARAMETER_VALUE"),
    (
        "runs/log-metric",
        {"run_id": "bad id", "key": "k", "value": 1, "timestamp": 1},
        "POST",
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    ("runs/update", {"run_id": "bad id", "status": "FINISHED"}, "POST", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("runs/delete", {"run_id": "bad id"}, "POST", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("runs/set-tag", {"run_id": "bad id", "key": "k", "value": "v"}, "POST", 404, "RESOURCE_DOES_NOT_EXIST"),
]


@pytest.mark.parametrize(("path", "body", "method", "http_status", "code"), MLFLOW_VALIDATION_ANSWERS)
def test_malformed_requests_answer_as_mlflows_server_does(user_client, path, body, method, http_status, code):
    error(call(user_client, path, body, method), http_status, code)
    assert not Project.objects.exists() and not Experiment.objects.exists()


def test_a_run_id_missing_everywhere_is_named_run_id(user_client):
    assert error(call(user_client, "runs/get", {}, "GET"), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'run_id'."
    )


def test_an_experiment_name_of_digits_is_a_name(user_client):
    # MLflow refuses the JSON number 123, not the string "123".
    created = ok(call(user_client, "experiments/create", {"name": "123"}))
    assert Project.objects.get(pk=created["experiment_id"]).name == "123"


def test_malformed_json_is_400_mlflow_json(user_client):
    response = user_client.generic("POST", API + "runs/create", "{not json", content_type="application/json")
    error(response, 400, "INVALID_PARAMETER_VALUE")


def test_log_metric_value_errors_are_400(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    for bad in [{"value": "abc"}, {"value": True}, {"value": 1, "step": 2**63}, {"value": 1, "timestamp": None}]:
        body = {"run_id": run_id, "key": "m", "timestamp": 1, **bad}
        error(call(user_client, "runs/log-metric", body), 400, "INVALID_PARAMETER_VALUE")
    assert not MetricPoint.objects.exists()


def test_a_body_over_the_limit_is_413_in_mlflow_json(user_client):
    response = user_client.generic(
        "POST", API + "runs/log-batch", "x" * (1024 * 1024 + 1), content_type="application/json"
    )
    error(response, 413, "INVALID_PARAMETER_VALUE")


def test_a_deleted_run_takes_no_writes_and_a_deleted_experiment_no_runs(user_client, project):
    run_id = make_run(user_client, str(project.pk))["info"]["run_id"]
    ok(call(user_client, "runs/delete", {"run_id": run_id}))
    body = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}
    assert "active" in error(call(user_client, "runs/log-metric", body), 400, "INVALID_PARAMETER_VALUE")
    ok(call(user_client, "experiments/delete", {"experiment_id": str(project.pk)}))
    body = {"experiment_id": str(project.pk), "run_name": "late"}
    assert "active" in error(call(user_client, "runs/create", body), 400, "INVALID_PARAMETER_VALUE")
    assert not MetricPoint.objects.exists()
    assert Experiment.objects.count() == 1


# ---------------------------------------------------------------------------------------------------------------------
# What a client logs on a run: the `log` operation
# ---------------------------------------------------------------------------------------------------------------------


def test_parameters_tags_and_names_are_logged_as_log_not_as_update(client_for, user, other_user, monkeypatch):
    # An editor may log but, with this table, not update: MLflow's writes on a run must ask for `log`.
    monkeypatch.setitem(EXPERIMENT_ACCESS.minimums, "update", "owner")
    project = ProjectFactory(owner=user)
    run = ExperimentFactory(
        owner=user, project=project, status=ExperimentStatus.RUNNING, parameters={}, tags=["baseline"]
    )
    ProjectMembership.objects.create(project=project, user=other_user, role="editor")
    client = client_for(other_user)
    run_id = run.run_uuid
    ok(call(client, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}))
    ok(call(client, "runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "renamed"}))
    ok(call(client, "runs/delete-tag", {"run_id": run_id, "key": "baseline"}))
    ok(call(client, "runs/log-batch", {"run_id": run_id, "params": [{"key": "bs", "value": "8"}]}))
    run.refresh_from_db()
    assert (run.parameters, run.name, run.tags) == ({"lr": "0.1", "bs": "8"}, "renamed", [])


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("runs/log-batch", {"params": [{"key": "lr", "value": "0.1"}]}),
        ("runs/log-batch", {"metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]}),
        ("runs/log-parameter", {"key": "lr", "value": "0.1"}),
        ("runs/set-tag", {"key": "stage", "value": "dev"}),
        ("runs/delete-tag", {"key": "team"}),
        ("runs/update", {"run_name": "late"}),
        ("runs/update", {"status": "FINISHED"}),
    ],
)
def test_a_deleted_run_takes_no_records(user_client, user, route, body):
    run = ExperimentFactory(owner=user, status=ExperimentStatus.RUNNING, lifecycle_stage="deleted")
    RunTag.objects.create(experiment=run, key="team", value="cv")
    before = snapshot()
    message = error(call(user_client, route, {"run_id": run.run_uuid, **body}), 400, "INVALID_PARAMETER_VALUE")
    assert "'active' state" in message
    assert snapshot() == before


def test_the_log_services_check_the_actor_and_the_run_themselves(user, other_user):
    project = ProjectFactory(owner=user)
    run = ExperimentFactory(owner=user, project=project, status=ExperimentStatus.RUNNING)
    ProjectMembership.objects.create(project=project, user=other_user, role="viewer")
    points = [tracking.Point(key="m", value=1.0, step=0, timestamp=1)]
    with pytest.raises(PermissionDenied):
        mlflow.run_log_batch(run=run, actor=other_user, metrics=points, params=[], tags=[])
    with pytest.raises(PermissionDenied):
        mlflow.run_delete_tag(run=run, actor=other_user, key="team")
    Experiment.objects.filter(pk=run.pk).update(lifecycle_stage="deleted")
    run.refresh_from_db()
    with pytest.raises(ValidationError):
        mlflow.run_log_batch(run=run, actor=user, metrics=points, params=[], tags=[])
    with pytest.raises(ValidationError):
        mlflow.run_update(run=run, actor=user, status=None, end_time=None, run_name="late")
    assert not MetricPoint.objects.exists()
    run.refresh_from_db()
    assert run.name != "late"


# ---------------------------------------------------------------------------------------------------------------------
# Personal access tokens: what a read-only token may call
# ---------------------------------------------------------------------------------------------------------------------

TOKEN_SECRET = "reg_pat_mlflowscope" + "0" * 33


def token_client(user, scope: str) -> APIClient:
    """A client sending a personal access token of `user` with `scope`, as MLflow's client does (Bearer)."""
    PersonalAccessTokenFactory(user=user, scope=scope, secret=TOKEN_SECRET)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN_SECRET}")
    return client


# (route, method, body with {project} and {run} to fill, status with a read token, status with a write token).
SCOPE_TABLE = [
    ("experiments/create", "POST", {"name": "new"}, 403, 200),
    ("experiments/get", "GET", {"experiment_id": "{project}"}, 200, 200),
    ("experiments/get-by-name", "GET", {"experiment_name": "demo"}, 200, 200),
    ("experiments/search", "POST", {"filter": "name = 'demo'"}, 200, 200),
    ("experiments/update", "POST", {"experiment_id": "{project}", "new_name": "renamed"}, 403, 200),
    ("experiments/delete", "POST", {"experiment_id": "{project}"}, 403, 200),
    ("experiments/restore", "POST", {"experiment_id": "{project}"}, 403, 200),
    ("experiments/set-experiment-tag", "POST", {"experiment_id": "{project}", "key": "k", "value": "v2"}, 403, 200),
    ("experiments/delete-experiment-tag", "POST", {"experiment_id": "{project}", "key": "k"}, 403, 200),
    ("runs/create", "POST", {"experiment_id": "{project}", "run_name": "new"}, 403, 200),
    ("runs/get", "GET", {"run_id": "{run}"}, 200, 200),
    ("runs/update", "POST", {"run_id": "{run}", "status": "FINISHED"}, 403, 200),
    ("runs/delete", "POST", {"run_id": "{run}"}, 403, 200),
    ("runs/restore", "POST", {"run_id": "{run}"}, 403, 200),
    ("runs/search", "POST", {"experiment_ids": ["{project}"], "filter": "params.lr = '0.1'"}, 200, 200),
    ("runs/log-metric", "POST", {"run_id": "{run}", "key": "m", "value": 2.0, "timestamp": 2}, 403, 200),
    ("runs/log-parameter", "POST", {"run_id": "{run}", "key": "bs", "value": "8"}, 403, 200),
    ("runs/set-tag", "POST", {"run_id": "{run}", "key": "stage", "value": "dev"}, 403, 200),
    ("runs/delete-tag", "POST", {"run_id": "{run}", "key": "team"}, 403, 200),
    ("runs/log-batch", "POST", {"run_id": "{run}", "params": [{"key": "bs", "value": "8"}]}, 403, 200),
    ("metrics/get-history", "GET", {"run_id": "{run}", "metric_key": "m"}, 200, 200),
    ("metrics/get-history-bulk-interval", "GET", {"run_ids": "{run}", "metric_key": "m"}, 200, 200),
    ("artifacts/list", "GET", {"run_id": "{run}"}, 200, 200),
    ("runs/log-inputs", "POST", {"run_id": "{run}", "datasets": []}, 403, 200),
    ("runs/log-model", "POST", {"run_id": "{run}", "model_json": '{{"artifact_path": "model"}}'}, 403, 200),
    ("experiments/search-datasets", "POST", {"experiment_ids": ["{project}"]}, 200, 200),
]


def _filled(value, names: dict):
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, names) for item in value]
    return value.format(**names) if isinstance(value, str) else value


def test_the_scope_table_names_every_route():
    from mlflow_api.tests.test_logged_models import MODEL_SCOPE_TABLE
    from mlflow_api.tests.test_model_registry import SCOPE_ROUTES

    named = [(route, method) for route, method, *_ in SCOPE_TABLE + MODEL_SCOPE_TABLE] + SCOPE_ROUTES
    assert sorted(named) == sorted((path, method) for path, _, method, _ in ROUTES)


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize(("route", "method", "body", "read", "write"), SCOPE_TABLE)
def test_a_read_token_may_call_every_route_that_only_reads(user, scope, route, method, body, read, write):
    project = ProjectFactory(owner=user, name="demo")
    ProjectTag.objects.create(project=project, key="k", value="v")
    run = ExperimentFactory(owner=user, project=project, status=ExperimentStatus.RUNNING, parameters={"lr": "0.1"})
    RunTag.objects.create(experiment=run, key="team", value="cv")
    tracking.metrics_record(experiment=run, points=[tracking.Point(key="m", value=1.0, step=0, timestamp=1)])
    client = token_client(user, scope)
    before = snapshot()
    response = call(client, route, _filled(body, {"project": project.pk, "run": run.run_uuid}), method)
    expected = read if scope == "read" else write
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json() == {
            "error_code": "PERMISSION_DENIED",
            "message": "This personal access token has the read scope, which allows only reads.",
        }
    if scope == "read":
        assert snapshot() == before


@pytest.mark.parametrize("credential", ["jwt", "read", "write"])
def test_reading_experiment_0_shows_the_default_project_without_making_it(user, credential):
    client = bearer_client(user) if credential == "jwt" else token_client(user, credential)
    joined = int(user.date_joined.timestamp() * 1000)
    got = ok(call(client, "experiments/get", {"experiment_id": "0"}, "GET"))
    assert got == {
        "experiment": {
            "experiment_id": "0",
            "name": "Default",
            "artifact_location": "mlflow-artifacts:/0",
            "lifecycle_stage": "active",
            "creation_time": joined,
            "last_update_time": joined,
            "tags": [{"key": "mlflow.note.content", "value": "Runs logged without an experiment."}],
        }
    }
    assert not Project.objects.exists()
    assert ok(call(client, "runs/search", {"experiment_ids": ["0"]})) == {"runs": []}
    # As MLflow's server, whose search_experiments() on a new server answers its Default experiment.
    assert ok(call(client, "experiments/search", {})) == {"experiments": [got["experiment"]]}
    assert not Project.objects.exists()


def test_the_first_run_in_experiment_0_makes_the_default_project_a_read_then_shows(user_client, user):
    run = make_run(user_client, "0", run_name="first")
    default = Project.objects.get(owner=user)
    got = ok(call(user_client, "experiments/get", {"experiment_id": "0"}, "GET"))["experiment"]
    assert (got["experiment_id"], got["name"]) == (str(default.pk), "Default")
    assert run["info"]["experiment_id"] == str(default.pk)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"order_by": ["name"]}, ["Alpha", "Default", "Zulu"]),
        ({"order_by": ["name DESC"]}, ["Zulu", "Default", "Alpha"]),
        ({"order_by": ["name"], "filter": "name != 'Default'"}, ["Alpha", "Zulu"]),
        ({"order_by": ["name"], "filter": "name LIKE 'D%'"}, ["Default"]),
        ({"order_by": ["name"], "filter": "tags.team = 'x'"}, []),
        ({"order_by": ["name"], "filter": "tags.team IS NULL"}, ["Alpha", "Default", "Zulu"]),
        ({"order_by": ["name"], "view_type": "DELETED_ONLY"}, []),
        ({"order_by": ["experiment_id"]}, ["Default", "Alpha", "Zulu"]),
        ({"order_by": ["creation_time DESC"]}, ["Zulu", "Alpha", "Default"]),
    ],
)
def test_the_unsaved_default_experiment_is_filtered_ordered_and_paged_with_the_others(user, user_client, body, names):
    ProjectFactory(owner=user, name="Alpha")
    ProjectFactory(owner=user, name="Zulu")
    for max_results in (1, 2, 10):
        found, token = [], None
        while True:
            answer = ok(
                call(user_client, "experiments/search", {**body, "max_results": max_results, "page_token": token})
            )
            found += [e["name"] for e in answer.get("experiments", [])]
            token = answer.get("next_page_token")
            if not token:
                break
        assert found == names


def test_once_made_the_default_experiment_is_shown_once(user_client, user):
    make_run(user_client, "0", run_name="first")
    found = ok(call(user_client, "experiments/search", {}))["experiments"]
    assert [(e["experiment_id"], e["name"]) for e in found] == [(str(Project.objects.get().pk), "Default")]


def test_a_read_token_makes_no_default_project_through_a_write(user):
    client = token_client(user, "read")
    error(call(client, "runs/create", {"experiment_id": "0"}), 403, "PERMISSION_DENIED")
    assert not Project.objects.exists()


# ---------------------------------------------------------------------------------------------------------------------
# LIKE and ILIKE
# ---------------------------------------------------------------------------------------------------------------------

LIKE_NAMES = ["Run_1", "run-2", "RUN%3", "run_x", "Runner", "r"]

# (comparator and pattern as written in a filter, the names matched, sorted).
LIKE_TABLE = [
    ("LIKE '%'", ["RUN%3", "Run_1", "Runner", "r", "run-2", "run_x"]),
    ("LIKE 'Run%'", ["Run_1", "Runner"]),
    ("LIKE 'run%'", ["run-2", "run_x"]),
    ("LIKE 'R%'", ["RUN%3", "Run_1", "Runner"]),
    ("LIKE '_'", ["r"]),
    ("LIKE 'run_2'", ["run-2"]),
    ("LIKE 'run\\_%'", ["run_x"]),
    ("LIKE '%\\%%'", ["RUN%3"]),
    ("LIKE '%%%_%%'", ["RUN%3", "Run_1", "Runner", "r", "run-2", "run_x"]),
    ("LIKE 'Run\\_1'", ["Run_1"]),
    ("LIKE 'run'", []),
    ("ILIKE 'run%'", ["RUN%3", "Run_1", "Runner", "run-2", "run_x"]),
    ("ILIKE 'run\\_%'", ["Run_1", "run_x"]),
    ("ILIKE 'RUN_3'", ["RUN%3"]),
    ("ILIKE '%\\%%'", ["RUN%3"]),
    ("ILIKE '%ER'", ["Runner"]),
    ("ILIKE 'R'", ["r"]),
]


@pytest.mark.parametrize(("comparison", "expected"), LIKE_TABLE)
def test_experiments_search_like_and_ilike(user_client, user, comparison, expected):
    for name in LIKE_NAMES:
        ProjectFactory(owner=user, name=name)
    found = ok(call(user_client, "experiments/search", {"filter": f"name {comparison}"})).get("experiments", [])
    # The caller's Default experiment, not yet made, is shown where it matches (test_a_new_users_search_...).
    assert sorted(e["name"] for e in found if e["experiment_id"] != "0") == expected


@pytest.mark.parametrize("attribute", ["attributes.run_name", "tags.t", "params.p"])
@pytest.mark.parametrize(("comparison", "expected"), LIKE_TABLE)
def test_runs_search_like_and_ilike(user_client, user, project, attribute, comparison, expected):
    for name in LIKE_NAMES:
        run = ExperimentFactory(owner=user, project=project, name=name, parameters={"p": name})
        RunTag.objects.create(experiment=run, key="t", value=name)
    assert sorted(_names(user_client, project, filter=f"{attribute} {comparison}")) == expected


@pytest.mark.parametrize(
    ("comparison", "expected"),
    [
        ("LIKE 'F%'", ["eval-c", "train-a", "train-b"]),
        ("LIKE 'f%'", []),
        ("ILIKE 'fail%'", ["eval-c", "train-b"]),
        ("LIKE '%NN%'", ["train-d"]),
        ("LIKE '_AILED'", ["eval-c", "train-b"]),
        ("ILIKE '%\\_%'", []),
    ],
)
def test_runs_search_status_like(user_client, project, searchable, comparison, expected):
    assert sorted(_names(user_client, project, filter=f"attributes.status {comparison}")) == expected


def test_a_pattern_of_many_wildcards_is_matched_by_the_database_like(user_client, user, project):
    long_a, long_ab = "a" * 60, "a" * 59 + "b"
    for name in (long_a, long_ab):
        ProjectFactory(owner=user, name=name)
        ExperimentFactory(owner=user, project=project, name=name)
    hostile = "%a" * 12 + "%b"
    with CaptureQueriesContext(connection) as queries:
        runs = _names(user_client, project, filter=f"attributes.run_name LIKE '{hostile}'")
        found = ok(call(user_client, "experiments/search", {"filter": f"name ILIKE '{hostile}'"}))["experiments"]
    assert (runs, [e["name"] for e in found]) == ([long_ab], [long_ab])
    searches = [q["sql"] for q in queries.captured_queries if "ESCAPE" in q["sql"] or " GLOB " in q["sql"]]
    assert len(searches) == 2
    assert not [q["sql"] for q in queries.captured_queries if re.search(r"REGEXP| ~\*? ", q["sql"])]


# ---------------------------------------------------------------------------------------------------------------------
# The size of a search
# ---------------------------------------------------------------------------------------------------------------------


def _clauses(template: str, count: int) -> str:
    return " and ".join(template.format(i=i) for i in range(count))


# (route, body, HTTP status, MLflow's message for a 400). {project} is the project's id.
SEARCH_SIZE_TABLE = [
    ("runs/search", {"filter": _clauses("start_time > {i}", 100)}, 200, None),
    ("runs/search", {"filter": _clauses("start_time > {i}", 101)}, 400, "A filter may hold at most 100 clauses."),
    ("runs/search", {"filter": _clauses("s > {i}", 1500)}, 400, "A filter may be at most 10000 characters long."),
    (
        "runs/search",
        {"filter": _clauses("tags.t{i} = 'x'", 1500)},
        400,
        "A filter may be at most 10000 characters long.",
    ),
    ("runs/search", {"filter": "tags.t = '" + "x" * 9989 + "'"}, 200, None),
    ("runs/search", {"filter": "tags.t = '" + "x" * 9990 + "'"}, 400, "A filter may be at most 10000 characters long."),
    ("runs/search", {"filter": _clauses("metrics.m{i} > 0", 50), "order_by": ["metrics.m0", "metrics.m49"]}, 200, None),
    (
        "runs/search",
        {"filter": _clauses("metrics.m{i} > 0", 50), "order_by": ["metrics.m50"]},
        400,
        "A search may compare and order by at most 50 metrics.",
    ),
    (
        "runs/search",
        {"filter": _clauses("metrics.m{i} > 0", 51)},
        400,
        "A search may compare and order by at most 50 metrics.",
    ),
    ("runs/search", {"order_by": [f"tags.t{i}" for i in range(100)]}, 200, None),
    ("runs/search", {"order_by": [f"tags.t{i}" for i in range(101)]}, 400, "order_by may hold at most 100 terms."),
    ("experiments/search", {"filter": _clauses("tags.t{i} = 'x'", 100)}, 200, None),
    ("experiments/search", {"filter": _clauses("tags.t{i} = 'x'", 101)}, 400, "A filter may hold at most 100 clauses."),
    (
        "experiments/search",
        {"filter": _clauses("name = 'x'", 1500)},
        400,
        "A filter may be at most 10000 characters long.",
    ),
    (
        "experiments/search",
        {"filter": "name LIKE '" + "%" * 9990 + "'"},
        400,
        "A filter may be at most 10000 characters long.",
    ),
    ("experiments/search", {"order_by": ["name"] * 101}, 400, "order_by may hold at most 100 terms."),
]


@pytest.mark.parametrize(("route", "body", "http_status", "message"), SEARCH_SIZE_TABLE)
def test_a_search_too_large_is_invalid_parameter_value_naming_the_limit(
    user_client, project, route, body, http_status, message
):
    make_run(user_client, str(project.pk))
    if route == "runs/search":
        body = {"experiment_ids": [str(project.pk)], **body}
    response = call(user_client, route, body)
    assert response.status_code == http_status, response.content
    if message is not None:
        assert response.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": message}


# ---------------------------------------------------------------------------------------------------------------------
# Values no database column holds
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "filter_string"),
    [
        ("runs/search", "attributes.start_time > 1e999"),
        ("runs/search", "attributes.end_time < -1e999"),
        ("runs/search", "attributes.created = 1e300"),
        ("runs/search", "start_time >= 1e999 and metrics.loss > 0"),
        ("experiments/search", "creation_time > 1e999"),
        ("experiments/search", "last_update_time < -1e999"),
    ],
)
def test_a_time_out_of_range_is_invalid_parameter_value(user_client, project, route, filter_string):
    make_run(user_client, str(project.pk))
    body = {"filter": filter_string, "experiment_ids": [str(project.pk)]}
    assert "is not a time in milliseconds" in error(call(user_client, route, body), 400, "INVALID_PARAMETER_VALUE")


def test_a_metric_compared_with_an_overflowing_number_is_answered(user_client, project, searchable):
    assert _names(user_client, project, filter="metrics.loss < 1e999", order_by=["metrics.loss"]) == [
        "eval-c",
        "train-a",
        "train-b",
    ]
    assert _names(user_client, project, filter="metrics.loss > -1e999 and metrics.loss > 0.5") == ["train-b"]


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


# (route, method, body without the token, the token's offset, HTTP status).
PAGE_TOKENS = [
    (route, method, body, offset, expected)
    for route, method, body in [
        ("runs/search", "POST", {"experiment_ids": ["{project}"], "max_results": 1000}),
        ("experiments/search", "POST", {"max_results": 1000}),
        ("metrics/get-history", "GET", {"run_id": "{run}", "metric_key": "m", "max_results": "1000"}),
    ]
    for offset, expected in [(2**63, 400), (2**64, 400), (2**63 - 1, 400), (2**63 - 1001, 400), (2**63 - 1002, 200)]
]


@pytest.mark.parametrize(("route", "method", "body", "offset", "expected"), PAGE_TOKENS)
def test_a_page_token_past_64_bits_is_invalid_parameter_value(
    user_client, user, project, route, method, body, offset, expected
):
    run = ExperimentFactory(owner=user, project=project)
    tracking.metrics_record(experiment=run, points=[tracking.Point(key="m", value=1.0, step=0, timestamp=1)])
    body = {**_filled(body, {"project": project.pk, "run": run.run_uuid}), "page_token": _token(offset)}
    response = call(user_client, route, body, method)
    if expected == 400:
        assert error(response, 400, "INVALID_PARAMETER_VALUE") == "Invalid page token."
    else:
        assert ok(response) in ({"runs": []}, {"experiments": []}, {"metrics": []})


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("experiments/get-by-name", {"experiment_name": "de\x00mo"}, "experiment_name"),
        ("experiments/get", {"experiment_id": "1\x00"}, "experiment_id"),
        ("runs/get", {"run_id": "\x00" * 32}, "run_id"),
        ("metrics/get-history", {"run_id": "{run}", "metric_key": "m\x00"}, "metric_key"),
        ("metrics/get-history", {"run_id": "{run}", "metric_key": "m", "page_token\x00": "x"}, "page_token\x00"),
    ],
)
def test_a_nul_in_a_query_parameter_is_invalid_parameter_value(user_client, user, project, route, params, field):
    run = ExperimentFactory(owner=user, project=project)
    response = call(user_client, route, _filled(params, {"run": run.run_uuid}), "GET")
    message = error(response, 400, "INVALID_PARAMETER_VALUE")
    assert (
        message
        == f"Invalid value for parameter {field!r}: strings may not contain NUL characters or unpaired surrogates."
    )
