"""The REST API of a project's logged models and an experiment's inputs and outputs: who may do what, and in how many
queries."""

import pytest
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from experiments.models import ExperimentStatus
from experiments.tests.factories import ExperimentFactory
from loggedmodels.models import LoggedModel, LoggedModelOutput
from loggedmodels.tests.factories import LoggedModelFactory
from projects.models import LifecycleStage, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client
from runinputs.models import CONTEXT_TAG, Dataset, DatasetInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A project, its owner, a member of each role and an outsider; a run in it with a dataset input and an output
    model."""
    project = ProjectFactory()
    run = ExperimentFactory(owner=project.owner, project=project, status=ExperimentStatus.RUNNING)
    model = LoggedModelFactory(project=project, source_run=run, name="net")
    LoggedModelOutput.objects.create(run=run, model=model, step=3)
    dataset = Dataset.objects.create(project=project, name="iris", digest="d1", source_type="local", source="/iris")
    DatasetInput.objects.create(run=run, dataset=dataset, tags={CONTEXT_TAG: "training"})
    users = {"owner": project.owner, "outsider": ProjectFactory().owner}
    for role in (ProjectRole.VIEWER, ProjectRole.EDITOR, ProjectRole.MAINTAINER):
        users[role] = ProjectMembershipFactory(project=project, role=role).user
    return {"project": project, "run": run, "model": model, "users": users}


def _urls(world) -> dict[str, str]:
    project, run, model = world["project"], world["run"], world["model"]
    return {
        "models": reverse("project-logged-model-list", kwargs={"project_pk": project.pk}),
        "model": reverse("project-logged-model-detail", kwargs={"project_pk": project.pk, "model_id": model.model_id}),
        "inputs": reverse("experiment-input-list", kwargs={"experiment_pk": run.pk}),
        "outputs": reverse("experiment-output-list", kwargs={"experiment_pk": run.pk}),
    }


# (method, route, expected status by caller). Written out: an expectation computed by the code under test could not
# catch its mistakes.
CALLERS = ["anonymous", "outsider", "viewer", "editor", "maintainer", "owner"]
MATRIX = [
    # method, route, status for each of CALLERS in order
    ("get", "models", (401, 403, 200, 200, 200, 200)),
    ("get", "model", (401, 403, 200, 200, 200, 200)),
    ("delete", "model", (401, 403, 403, 403, 204, 204)),
    ("put", "model", (401, 405, 405, 405, 405, 405)),
    ("post", "models", (401, 405, 405, 405, 405, 405)),
    ("get", "inputs", (401, 403, 200, 200, 200, 200)),
    ("get", "outputs", (401, 403, 200, 200, 200, 200)),
    ("post", "inputs", (401, 405, 405, 405, 405, 405)),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "route", "expected"), MATRIX)
def test_permission_matrix(world, caller, method, route, expected):
    client = APIClient() if caller == "anonymous" else bearer_client(world["users"][caller])
    response = getattr(client, method)(_urls(world)[route])
    expected_status = expected[CALLERS.index(caller)]
    assert response.status_code == expected_status, response.content
    stage = LoggedModel.objects.get(pk=world["model"].pk).lifecycle_stage
    assert stage == (LifecycleStage.DELETED if expected_status == 204 else LifecycleStage.ACTIVE)


def test_a_missing_project_experiment_or_model_is_404(world):
    client = bearer_client(world["users"]["owner"])
    project, run = world["project"], world["run"]
    other_model = LoggedModelFactory(project=ProjectFactory(owner=project.owner))
    assert client.get(reverse("project-logged-model-list", kwargs={"project_pk": 999999})).status_code == 404
    assert client.get(reverse("experiment-input-list", kwargs={"experiment_pk": 999999})).status_code == 404
    url = reverse("project-logged-model-detail", kwargs={"project_pk": project.pk, "model_id": "m-nothing"})
    assert client.get(url).status_code == 404
    # A model of another project is not this project's.
    url = reverse("project-logged-model-detail", kwargs={"project_pk": project.pk, "model_id": other_model.model_id})
    assert client.get(url).status_code == 404
    assert client.get(reverse("experiment-output-list", kwargs={"experiment_pk": run.pk + 1000})).status_code == 404


def test_what_each_route_shows(world):
    client = bearer_client(world["users"]["viewer"])
    urls, model, run = _urls(world), world["model"], world["run"]
    shown = {
        "model_id": model.model_id,
        "project": world["project"].pk,
        "name": "net",
        "model_type": "",
        "status": "pending",
        "status_message": "",
        "source_run": run.pk,
        "source_run_id": run.run_uuid,
        "creator": world["project"].owner.pk,
        "tags": {},
        "params": {},
        "created_at": client.get(urls["model"]).json()["created_at"],
        "updated_at": client.get(urls["model"]).json()["updated_at"],
    }
    assert client.get(urls["model"]).json() == shown
    assert client.get(urls["models"]).json() == [shown]
    assert client.get(urls["outputs"]).json() == [{"model": shown, "step": 3}]
    assert client.get(urls["inputs"]).json() == [
        {
            "name": "iris",
            "digest": "d1",
            "source_type": "local",
            "source": "/iris",
            "schema": "",
            "profile": "",
            "context": "training",
            "tags": {CONTEXT_TAG: "training"},
        }
    ]


def test_a_deleted_model_is_gone_from_the_lists(world):
    client = bearer_client(world["users"]["maintainer"])
    urls = _urls(world)
    assert client.delete(urls["model"]).status_code == status.HTTP_204_NO_CONTENT
    assert client.get(urls["models"]).json() == []
    assert client.get(urls["outputs"]).json() == []
    assert client.get(urls["model"]).status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("route", ["models", "inputs", "outputs"])
def test_lists_read_in_a_number_of_queries_that_does_not_grow_with_their_rows(
    world, route, django_assert_max_num_queries, django_assert_num_queries
):
    client = bearer_client(world["users"]["viewer"])
    url = _urls(world)[route]
    with django_assert_max_num_queries(10) as one_row:
        assert len(client.get(url).json()) == 1
    project, run = world["project"], world["run"]
    for index in range(5):
        model = LoggedModelFactory(project=project, source_run=run)
        LoggedModelOutput.objects.create(run=run, model=model, step=index)
        dataset = Dataset.objects.create(project=project, name=f"d{index}", digest="x", source_type="s", source="/")
        DatasetInput.objects.create(run=run, dataset=dataset)
    with django_assert_num_queries(len(one_row)):
        assert len(client.get(url).json()) == 6
