"""The admin goes through the experiments' rules with the staff member as the actor (issue: an editor on the staff made
themself owner of another user's experiment through the admin's owner field, then moved it out of the project, and
staff created experiments in projects where they held no role, in other users' names)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import LifecycleStage, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:experiments_experiment_add")


def change_url(pk: int) -> str:
    return reverse("admin:experiments_experiment_change", args=[pk])


@pytest.fixture
def staff():
    """A staff member allowed to add and change experiments in the admin, with no role anywhere yet."""
    member = UserFactory(is_staff=True)
    member.user_permissions.add(*Permission.objects.filter(content_type__app_label="experiments"))
    return member


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def form(**fields) -> dict:
    data = {"name": "from the admin", "description": "", "status": "draft", "parameters": "{}", "tags": "[]"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def stored(experiment) -> tuple:
    return Experiment.objects.filter(pk=experiment.pk).values_list("owner_id", "project_id", "name").get()


def test_an_editor_on_the_staff_cannot_take_or_move_out_another_users_experiment(staff_client, staff):
    project = ProjectFactory()
    ProjectMembershipFactory(project=project, user=staff, role=ProjectRole.EDITOR)
    theirs = ExperimentFactory(project=project)
    before = stored(theirs)

    taken = staff_client.post(change_url(theirs.pk), form(name="renamed", owner=staff.pk, project=project.pk))
    moved = staff_client.post(change_url(theirs.pk), form(name=theirs.name, project=""))

    assert taken.status_code == 302
    assert stored(theirs) == (before[0], project.pk, "renamed")
    assert moved.status_code == 200
    assert "Only the experiment&#x27;s owner can move it to another project." in moved.content.decode()
    assert stored(theirs) == (before[0], project.pk, "renamed")


@pytest.mark.parametrize(
    ("role", "created"),
    [(None, False), (ProjectRole.VIEWER, False), (ProjectRole.EDITOR, True), (ProjectRole.MAINTAINER, True)],
)
def test_staff_add_experiments_only_where_their_role_allows_and_as_themselves(staff_client, staff, role, created):
    project, someone = ProjectFactory(), UserFactory()
    if role is not None:
        ProjectMembershipFactory(project=project, user=staff, role=role)

    response = staff_client.post(ADD_URL, form(owner=someone.pk, project=project.pk))

    assert response.status_code == (302 if created else 200)
    assert list(Experiment.objects.values_list("owner_id", "project_id")) == (
        [(staff.pk, project.pk)] if created else []
    )
    if not created:
        assert "Your role in this project does not allow this." in response.content.decode()


def test_staff_move_no_experiment_into_a_project_without_a_role_there(staff_client, staff):
    own = ExperimentFactory(owner=staff)
    elsewhere = ProjectFactory()

    response = staff_client.post(change_url(own.pk), form(name=own.name, project=elsewhere.pk))

    assert response.status_code == 200
    assert stored(own)[1] is None


def test_the_admin_changes_no_experiment_a_tracking_client_deleted(admin_client):
    deleted = ExperimentFactory(lifecycle_stage=LifecycleStage.DELETED, name="kept")

    response = admin_client.post(change_url(deleted.pk), form(name="renamed"))

    assert response.status_code == 200
    assert "must be in the &#x27;active&#x27; state" in response.content.decode()
    assert stored(deleted)[2] == "kept"
