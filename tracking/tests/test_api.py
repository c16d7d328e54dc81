"""The metric history over HTTP: recording points, reading one metric, and who may do either."""

import pytest
from rest_framework import status

from experiments import services as experiments_services
from experiments.tests.factories import ExperimentFactory
from projects import services as projects_services
from projects.tests.factories import ProjectFactory
from registry.tests import matrix
from registry.tests.matrix import EXPERIMENT_CALLERS, Action
from registry.tests.support import experiment_restore_url, experiment_url, metrics_url, project_restore_url, project_url
from tracking.models import MetricPoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(user):
    return ExperimentFactory(owner=user)


def test_post_records_points_and_answers_201(user_client, experiment):
    body = [
        {"key": "loss", "value": 0.5, "step": 1, "timestamp": 1000},
        {"key": "loss", "value": "NaN", "step": 2, "timestamp": 2000},
        {"key": "acc", "value": "Infinity", "step": 0, "timestamp": 1000},
    ]
    response = user_client.post(metrics_url(experiment.pk), body)
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json() == body
    assert MetricPoint.objects.filter(experiment=experiment).count() == 3


def test_the_experiment_shows_the_latest_values_with_non_finite_ones_by_name(user_client, experiment):
    user_client.post(
        metrics_url(experiment.pk),
        [
            {"key": "loss", "value": 0.9, "step": 1, "timestamp": 5},
            {"key": "loss", "value": 0.4, "step": 3, "timestamp": 1},
            {"key": "acc", "value": "-Infinity", "step": 0, "timestamp": 1},
            {"key": "gap", "value": "NaN"},
        ],
    )
    assert user_client.get(experiment_url(experiment.pk)).json()["results"] == {
        "acc": "-Infinity",
        "gap": "NaN",
        "loss": 0.4,
    }


def test_step_defaults_to_0_and_timestamp_to_now(user_client, experiment):
    response = user_client.post(metrics_url(experiment.pk), [{"key": "loss", "value": 1}])
    point = response.json()[0]
    assert point["step"] == 0
    assert point["timestamp"] > 1_700_000_000_000


def test_get_reads_one_key_in_step_order_paged(user_client, experiment):
    user_client.post(
        metrics_url(experiment.pk),
        [{"key": "loss", "value": float(step), "step": step, "timestamp": 100 - step} for step in (3, 1, 2, 0)]
        + [{"key": "other", "value": 9.0, "step": 0, "timestamp": 1}],
    )
    response = user_client.get(metrics_url(experiment.pk), {"key": "loss", "limit": 3})
    assert response.status_code == status.HTTP_200_OK
    assert response["X-Total-Count"] == "4"
    assert [(p["step"], p["value"], p["timestamp"]) for p in response.json()] == [
        (0, 0.0, 100),
        (1, 1.0, 99),
        (2, 2.0, 98),
    ]
    rest = user_client.get(metrics_url(experiment.pk), {"key": "loss", "limit": 3, "offset": 3}).json()
    assert [p["step"] for p in rest] == [3]


def test_pages_go_up_to_10000_points(user_client, experiment):
    points = [{"key": "m", "value": 1.0, "step": step, "timestamp": 1} for step in range(1000)]
    for _ in range(11):
        user_client.post(metrics_url(experiment.pk), points)
        points = [{**p, "step": p["step"] + 1000} for p in points]
    response = user_client.get(metrics_url(experiment.pk), {"key": "m", "limit": 20000})
    assert response["X-Total-Count"] == "11000"
    assert len(response.json()) == 10000


def test_get_without_a_key_is_400(user_client, experiment):
    response = user_client.get(metrics_url(experiment.pk))
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "key" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"key": "loss", "value": 1},
        [{"key": "loss"}],
        [{"key": "loss", "value": "1.5"}],
        [{"key": "loss", "value": True}],
        [{"key": "bad*key", "value": 1}],
        [{"key": "loss", "value": 1, "step": 2**63}],
        [{"key": "loss", "value": 1}] * 1001,
    ],
)
def test_invalid_points_are_400_and_nothing_is_stored(user_client, experiment, body):
    response = user_client.post(metrics_url(experiment.pk), body)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert MetricPoint.objects.count() == 0


def test_unknown_experiment_is_404(user_client):
    assert user_client.get(metrics_url(999999), {"key": "x"}).status_code == status.HTTP_404_NOT_FOUND


METRIC_ACTIONS = {
    "read": Action("get", lambda w: metrics_url(w.experiment.pk), params={"key": "loss"}),
    "record": Action("post", lambda w: metrics_url(w.experiment.pk), lambda w: [{"key": "loss", "value": 0.5}]),
}

# fmt: off
METRIC_TABLE = {
    "anonymous":  {"read": 401, "record": 401},
    "stranger":   {"read": 403, "record": 403},
    "staff":      {"read": 403, "record": 403},
    "expired":    {"read": 403, "record": 403},
    "viewer":     {"read": 200, "record": 403},
    "editor":     {"read": 200, "record": 201},
    "maintainer": {"read": 200, "record": 201},
    "owner":      {"read": 200, "record": 201},
    "superuser":  {"read": 200, "record": 201},
    "author":     {"read": 200, "record": 201},
}
# fmt: on


@pytest.mark.parametrize(("kind", "name", "expected"), matrix.cases(METRIC_TABLE, METRIC_ACTIONS, EXPERIMENT_CALLERS))
def test_metric_history_answers_by_role_and_refusals_change_nothing(kind, name, expected):
    matrix.check(kind, METRIC_ACTIONS[name], expected)


def test_anonymous_is_401(api_client, experiment):
    assert api_client.get(metrics_url(experiment.pk), {"key": "m"}).status_code == status.HTTP_401_UNAUTHORIZED


def test_writing_results_records_points_read_back_as_history(user_client, experiment):
    user_client.patch(experiment_url(experiment.pk), {"results": {"acc": 0.5}})
    user_client.patch(experiment_url(experiment.pk), {"results": {"acc": 0.75}})
    user_client.patch(experiment_url(experiment.pk), {"results": {"acc": 0.75}})
    history = user_client.get(metrics_url(experiment.pk), {"key": "acc"}).json()
    assert [(p["step"], p["value"]) for p in history] == [(0, 0.5), (1, 0.75)]


# Who may restore is in the permission matrices of projects/tests/test_sharing_api.py.


def test_rest_shows_and_restores_a_softly_deleted_project_and_its_experiments(user_client, user):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(owner=user, project=project)
    projects_services.project_soft_delete(project=project, actor=project.owner)
    assert user_client.get(project_url(project.pk)).json()["lifecycle_stage"] == "deleted"
    assert user_client.get(experiment_url(experiment.pk)).json()["lifecycle_stage"] == "deleted"
    response = user_client.post(project_restore_url(project.pk))
    assert (response.status_code, response.json()["lifecycle_stage"]) == (status.HTTP_200_OK, "active")
    project.refresh_from_db()
    experiment.refresh_from_db()
    assert (project.lifecycle_stage, experiment.lifecycle_stage) == ("active", "active")


def test_rest_restores_a_softly_deleted_experiment(user_client, user):
    experiment = ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    experiments_services.experiment_soft_delete(experiment=experiment, actor=experiment.owner)
    response = user_client.post(experiment_restore_url(experiment.pk))
    assert (response.status_code, response.json()["lifecycle_stage"]) == (status.HTTP_200_OK, "active")
    experiment.refresh_from_db()
    assert experiment.lifecycle_stage == "active"
