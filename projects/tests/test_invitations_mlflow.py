"""Shares and transfers need their recipient's consent: what someone else sends does not change what the recipient's
MLflow names resolve to (experiments/get-by-name, set_experiment, experiment "0"), and a transfer's answer tells its
sender nothing of the recipient's own projects.

Everything here goes through HTTP only, the sender's routes as the victim's, so that these tests hold any design of
the invitations to the same promise.
"""

import pytest
from rest_framework import status

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from projects.models import Project
from projects.tests.factories import ProjectFactory
from registry.tests.support import bearer_client, members_url, project_url, transfer_url

pytestmark = pytest.mark.django_db

MLFLOW = "/api/2.0/mlflow/"


def _get_by_name(client, name: str):
    return client.get(MLFLOW + "experiments/get-by-name", {"experiment_name": name})


def _experiment_zero(client) -> str:
    response = client.get(MLFLOW + "experiments/get", {"experiment_id": "0"})
    assert response.status_code == status.HTTP_200_OK, response.content
    return response.json()["experiment"]["experiment_id"]


def _create_run(client, experiment_id: str) -> str:
    body = {"experiment_id": experiment_id, "start_time": 1_700_000_000_000, "tags": []}
    response = client.post(MLFLOW + "runs/create", body, format="json")
    assert response.status_code == status.HTTP_200_OK, response.content
    return response.json()["run"]["info"]["run_id"]


@pytest.fixture
def stranger():
    return UserFactory(username="mallory")


@pytest.fixture
def victim():
    return UserFactory(username="victim", email="victim@example.com")


@pytest.mark.parametrize("role", ["viewer", "editor", "maintainer"])
def test_an_unsolicited_share_does_not_change_what_the_victims_name_resolves_to(stranger, victim, role):
    trap = ProjectFactory(owner=stranger, name="churn-model")
    shared = bearer_client(stranger).post(members_url(trap.pk), {"user": victim.email, "role": role})
    assert shared.status_code < 300, shared.content

    as_victim = bearer_client(victim)
    response = _get_by_name(as_victim, "churn-model")
    assert response.status_code == status.HTTP_404_NOT_FOUND, response.content
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert as_victim.get(project_url(trap.pk)).status_code == status.HTTP_403_FORBIDDEN


def test_set_experiment_after_an_unsolicited_share_makes_the_victims_own_project(stranger, victim):
    # MLflow's set_experiment: get-by-name, and create when it is not found; then the runs go there.
    trap = ProjectFactory(owner=stranger, name="churn-model")
    bearer_client(stranger).post(members_url(trap.pk), {"user": victim.username, "role": "editor"})

    as_victim = bearer_client(victim)
    assert _get_by_name(as_victim, "churn-model").status_code == status.HTTP_404_NOT_FOUND
    created = as_victim.post(MLFLOW + "experiments/create", {"name": "churn-model"}, format="json")
    assert created.status_code == status.HTTP_200_OK, created.content
    experiment_id = created.json()["experiment_id"]
    assert experiment_id != str(trap.pk)
    run_id = _create_run(as_victim, experiment_id)

    run = Experiment.objects.get(run_uuid=run_id)
    assert (run.project.owner, run.project.name) == (victim, "churn-model")
    assert not Experiment.objects.filter(project=trap).exists()
    found = _get_by_name(as_victim, "churn-model")
    assert found.json()["experiment"]["experiment_id"] == experiment_id


def test_an_unsolicited_share_of_a_default_project_does_not_stand_for_the_victims_names(stranger, victim):
    # The victim's own project of a name comes first; a share must not fill in for one they do not have yet.
    trap = ProjectFactory(owner=stranger, name="Default")
    bearer_client(stranger).post(members_url(trap.pk), {"user": victim.username, "role": "editor"})
    as_victim = bearer_client(victim)
    assert _get_by_name(as_victim, "Default").status_code == status.HTTP_404_NOT_FOUND
    assert _experiment_zero(as_victim) != str(trap.pk)
    run = Experiment.objects.get(run_uuid=_create_run(as_victim, "0"))
    assert (run.project_id != trap.pk, run.project.owner) == (True, victim)


def test_a_transferred_default_project_does_not_receive_the_victims_experiment_zero_runs(stranger, victim):
    # The sender would stay a maintainer of the project they give away, and read every run logged into it.
    trap = ProjectFactory(owner=stranger, name="Default")
    bearer_client(stranger).post(transfer_url(trap.pk), {"user": victim.username})

    as_victim = bearer_client(victim)
    zero = _experiment_zero(as_victim)
    assert zero != str(trap.pk)
    run_id = _create_run(as_victim, "0")

    run = Experiment.objects.get(run_uuid=run_id)
    assert run.project_id != trap.pk
    assert run.project.owner == victim
    assert Project.objects.get(pk=trap.pk).owner == stranger
    as_stranger = bearer_client(stranger)
    assert as_stranger.get(MLFLOW + "runs/get", {"run_id": run_id}).status_code != status.HTTP_200_OK
    found = _get_by_name(as_victim, "Default").json()["experiment"]["experiment_id"]
    assert found == str(run.project_id)


def test_a_transfer_does_not_change_what_the_victims_name_resolves_to(stranger, victim):
    trap = ProjectFactory(owner=stranger, name="churn-model")
    bearer_client(stranger).post(transfer_url(trap.pk), {"user": victim.username})
    response = _get_by_name(bearer_client(victim), "churn-model")
    assert response.status_code == status.HTTP_404_NOT_FOUND, response.content


def _transfer_answer(sender, recipient, *, recipient_has_the_name: bool) -> tuple[int, set]:
    project = ProjectFactory(owner=sender, name="warehouse")
    if recipient_has_the_name:
        ProjectFactory(owner=recipient, name="WAREHOUSE")
    response = bearer_client(sender).post(transfer_url(project.pk), {"user": recipient.username})
    body = response.json()
    return response.status_code, set(body) if isinstance(body, dict) else body


def test_the_sender_of_a_transfer_learns_nothing_of_the_recipients_projects():
    without = _transfer_answer(UserFactory(), UserFactory(), recipient_has_the_name=False)
    with_the_name = _transfer_answer(UserFactory(), UserFactory(), recipient_has_the_name=True)
    assert with_the_name == without
    assert without[0] == status.HTTP_202_ACCEPTED
