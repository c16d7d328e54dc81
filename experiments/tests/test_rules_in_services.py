"""The experiments' rules live in their services, so that every surface (REST, MLflow, admin) gets them: a role in the
target project to put an experiment there, and no writes into what a tracking client deleted (issue: the REST API
wrote metrics, parameters and experiments into runs and projects that MLflow had deleted)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import status

from experiments import services
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import LifecycleStage, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import EXPERIMENTS_URL, experiment_url, metrics_url, rerun_url
from tracking.models import MetricPoint
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db

DELETED = LifecycleStage.DELETED


def row(experiment) -> dict:
    return Experiment.objects.filter(pk=experiment.pk).values("name", "status", "parameters", "project_id").get()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(None, False), (ProjectRole.VIEWER, False), (ProjectRole.EDITOR, True), (ProjectRole.MAINTAINER, True)],
)
def test_experiment_create_checks_the_role_in_the_project(user, role, allowed):
    project = ProjectFactory()
    if role is not None:
        ProjectMembershipFactory(project=project, user=user, role=role)

    if allowed:
        assert services.experiment_create(owner=user, name="mine", project=project).project_id == project.pk
    else:
        with pytest.raises(PermissionDenied):
            services.experiment_create(owner=user, name="mine", project=project)
        assert not Experiment.objects.exists()


def test_experiment_update_checks_the_role_in_the_project_moved_to(user):
    own, elsewhere = ExperimentFactory(owner=user), ProjectFactory()
    ProjectMembershipFactory(project=elsewhere, user=user, role=ProjectRole.VIEWER)

    with pytest.raises(PermissionDenied):
        services.experiment_update(experiment=own, actor=user, project=elsewhere)
    assert row(own)["project_id"] is None


def test_no_experiment_goes_into_a_deleted_project(user):
    project = ProjectFactory(owner=user, lifecycle_stage=DELETED)

    with pytest.raises(ValidationError) as refused:
        services.experiment_create(owner=user, name="late", project=project)

    assert refused.value.message_dict == {"project": [f"The project {project.pk} is deleted; restore it first."]}


@pytest.mark.parametrize(
    "write",
    [
        lambda run, actor: services.experiment_update(experiment=run, actor=actor, name="renamed"),
        lambda run, actor: services.experiment_rerun(experiment=run, actor=actor),
        lambda run, actor: services.experiment_report_status(experiment=run, actor=actor, status="running"),
        lambda run, actor: metrics_record(experiment=run, points=[Point("loss", 0.5, 0, 1)]),
    ],
    ids=["update", "rerun", "report status", "record metrics"],
)
def test_the_services_write_nothing_into_a_deleted_experiment(user, write):
    run = ExperimentFactory(owner=user, status="completed", lifecycle_stage=DELETED)
    before = row(run)

    with pytest.raises(ValidationError, match="must be in the 'active' state"):
        write(run, user)

    assert (row(run), MetricPoint.objects.count()) == (before, 0)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", experiment_url, {"name": "renamed", "parameters": {"lr": 1}}),
        ("put", experiment_url, {"name": "renamed", "parameters": {"lr": 1}}),
        ("post", rerun_url, None),
        ("post", metrics_url, [{"key": "loss", "value": 0.5}]),
    ],
)
def test_the_rest_api_writes_nothing_into_an_experiment_mlflow_deleted(user_client, user, method, url, body):
    run = ExperimentFactory(owner=user, status="completed", lifecycle_stage=DELETED)
    before = row(run)

    response = getattr(user_client, method)(url(run.pk), body, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "must be in the 'active' state" in response.json()["non_field_errors"][0]
    assert (row(run), MetricPoint.objects.count()) == (before, 0)


def test_the_rest_api_creates_no_experiment_in_a_project_mlflow_deleted(user_client, user):
    project = ProjectFactory(owner=user, lifecycle_stage=DELETED)

    response = user_client.post(EXPERIMENTS_URL, {"name": "late", "project": project.pk}, format="json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert not Experiment.objects.exists()


def test_a_restored_experiment_takes_writes_again(user_client, user):
    run = ExperimentFactory(owner=user, lifecycle_stage=DELETED)
    services.experiment_restore(experiment=run, actor=user)

    response = user_client.patch(experiment_url(run.pk), {"name": "renamed"}, format="json")

    assert (response.status_code, row(run)["name"]) == (status.HTTP_200_OK, "renamed")
