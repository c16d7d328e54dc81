import pytest
from django.urls import reverse
from rest_framework import status

from experiments import services as experiments_services
from experiments.tests.factories import ExperimentFactory
from projects import services as projects_services
from projects.models import ProjectMembership
from projects.tests.factories import ProjectFactory
from tracking.models import MetricPoint

pytestmark = pytest.mark.django_db


def metrics_url(pk) -> str:
    return reverse("experiment-metric-list", args=[pk])


def detail_url(pk) -> str:
    return reverse("experiment-detail", args=[pk])


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
    assert user_client.get(detail_url(experiment.pk)).json()["results"] == {
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


# Who may read and write the history: (role, read, write); None is no access at all.
MATRIX = [
    ("owner", 200, 201),
    ("maintainer", 200, 201),
    ("editor", 200, 201),
    ("viewer", 200, 403),
    (None, 403, 403),
]


@pytest.mark.parametrize(("role", "read", "write"), MATRIX)
def test_access_by_role(client_for, user, other_user, role, read, write):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(owner=user, project=project)
    if role == "owner":
        actor = user
    else:
        actor = other_user
        if role is not None:
            ProjectMembership.objects.create(project=project, user=other_user, role=role)
    client = client_for(actor)
    assert client.get(metrics_url(experiment.pk), {"key": "m"}).status_code == read
    before = MetricPoint.objects.count()
    assert client.post(metrics_url(experiment.pk), [{"key": "m", "value": 1}]).status_code == write
    assert MetricPoint.objects.count() == before + (1 if write == 201 else 0)


def test_anonymous_is_401(api_client, experiment):
    assert api_client.get(metrics_url(experiment.pk), {"key": "m"}).status_code == status.HTTP_401_UNAUTHORIZED


def test_writing_results_records_points_read_back_as_history(user_client, experiment):
    user_client.patch(detail_url(experiment.pk), {"results": {"acc": 0.5}})
    user_client.patch(detail_url(experiment.pk), {"results": {"acc": 0.75}})
    user_client.patch(detail_url(experiment.pk), {"results": {"acc": 0.75}})
    history = user_client.get(metrics_url(experiment.pk), {"key": "acc"}).json()
    assert [(p["step"], p["value"]) for p in history] == [(0, 0.5), (1, 0.75)]


# What a tracking client deleted, the REST API shows and restores: (role, expected status of restore).
RESTORE_MATRIX = [("owner", 200), ("maintainer", 200), ("editor", 403), ("viewer", 403), (None, 403)]


@pytest.mark.parametrize(("role", "expected"), RESTORE_MATRIX)
def test_rest_restores_a_softly_deleted_project_and_its_experiments(client_for, user, other_user, role, expected):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(owner=user, project=project)
    projects_services.project_soft_delete(project=project, actor=project.owner)
    actor = user if role == "owner" else other_user
    if role not in ("owner", None):
        ProjectMembership.objects.create(project=project, user=other_user, role=role)
    client = client_for(actor)
    if role is not None:
        assert client.get(reverse("project-detail", args=[project.pk])).json()["lifecycle_stage"] == "deleted"
        assert client.get(detail_url(experiment.pk)).json()["lifecycle_stage"] == "deleted"
    response = client.post(reverse("project-restore", args=[project.pk]))
    assert response.status_code == expected
    project.refresh_from_db()
    experiment.refresh_from_db()
    stage = "active" if expected == 200 else "deleted"
    assert (project.lifecycle_stage, experiment.lifecycle_stage) == (stage, stage)


@pytest.mark.parametrize(("role", "expected"), RESTORE_MATRIX)
def test_rest_restores_a_softly_deleted_experiment(client_for, user, other_user, role, expected):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(owner=user, project=project)
    experiments_services.experiment_soft_delete(experiment=experiment, actor=experiment.owner)
    actor = user if role == "owner" else other_user
    if role not in ("owner", None):
        ProjectMembership.objects.create(project=project, user=other_user, role=role)
    response = client_for(actor).post(reverse("experiment-restore", args=[experiment.pk]))
    assert response.status_code == expected
    experiment.refresh_from_db()
    assert experiment.lifecycle_stage == ("active" if expected == 200 else "deleted")
