"""The rules of logged models, against the database: who may make and change them, what a deleted one takes."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from experiments.tests.factories import ExperimentFactory
from loggedmodels import selectors, services
from loggedmodels.models import LoggedModel, LoggedModelOutput, LoggedModelStatus
from loggedmodels.tests.factories import LoggedModelFactory
from projects.models import LifecycleStage, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db


def test_a_viewer_may_not_make_a_model_and_nothing_is_stored():
    project = ProjectFactory()
    viewer = ProjectMembershipFactory(project=project, role=ProjectRole.VIEWER).user
    with pytest.raises(PermissionDenied):
        services.logged_model_create(actor=viewer, project=project, name="m")
    assert not LoggedModel.objects.exists()


def test_an_editor_makes_a_pending_model_of_their_own():
    project = ProjectFactory()
    editor = ProjectMembershipFactory(project=project, role=ProjectRole.EDITOR).user
    model = services.logged_model_create(actor=editor, project=project, name="m", params={"a": "1"})
    assert (model.creator, model.status, model.params, model.storage_root) == (
        editor,
        LoggedModelStatus.PENDING,
        {"a": "1"},
        f"models/{model.model_id}",
    )


@pytest.mark.parametrize("name", ["a/b", "a.b", "a:b", "50%", "it's", ""])
def test_a_name_that_cannot_be_part_of_a_uri_is_refused(name):
    project = ProjectFactory()
    with pytest.raises(ValidationError):
        services.logged_model_create(actor=project.owner, project=project, name=name)


def test_a_deleted_project_takes_no_models():
    project = ProjectFactory(lifecycle_stage=LifecycleStage.DELETED)
    with pytest.raises(ValidationError):
        services.logged_model_create(actor=project.owner, project=project, name="m")


def test_the_source_run_must_be_of_the_same_project():
    project = ProjectFactory()
    run = ExperimentFactory(owner=project.owner, project=ProjectFactory(owner=project.owner))
    with pytest.raises(ValidationError):
        services.logged_model_create(actor=project.owner, project=project, name="m", source_run=run)


def test_a_deleted_model_takes_no_tags_params_files_or_status():
    model = LoggedModelFactory(lifecycle_stage=LifecycleStage.DELETED)
    owner = model.project.owner
    with pytest.raises(ValidationError):
        services.logged_model_set_tags(actor=owner, model=model, tags={"k": "v"})
    with pytest.raises(ValidationError):
        services.logged_model_log_params(actor=owner, model=model, params={"k": "v"})
    with pytest.raises(ValidationError):
        services.logged_model_finalize(actor=owner, model=model, status=LoggedModelStatus.READY)
    with pytest.raises(ValidationError):
        services.logged_model_file_put(actor=owner, model=model, path="a", stream=io.BytesIO(b"a"), length=1)
    model.refresh_from_db()
    assert (model.tags, model.params, model.status) == ({}, {}, LoggedModelStatus.PENDING)


def test_only_maintainers_delete_and_a_deleted_model_is_hidden():
    model = LoggedModelFactory()
    editor = ProjectMembershipFactory(project=model.project, role=ProjectRole.EDITOR).user
    with pytest.raises(PermissionDenied):
        services.logged_model_delete(actor=editor, model=model)
    services.logged_model_delete(actor=model.project.owner, model=model)
    assert selectors.logged_model_get(user=model.project.owner, model_id=model.model_id) is None
    assert list(selectors.logged_model_list(user=model.project.owner, project_ids=[model.project_id])) == []


def test_an_output_recorded_twice_is_kept_once():
    model = LoggedModelFactory()
    run = ExperimentFactory(owner=model.project.owner, project=model.project)
    services.run_log_outputs(actor=run.owner, run=run, outputs=[(model, 0), (model, 0)])
    services.run_log_outputs(actor=run.owner, run=run, outputs=[(model, 0), (model, 3)])
    assert list(LoggedModelOutput.objects.values_list("step", flat=True)) == [0, 3]
    assert selectors.run_outputs(run_ids=[run.pk]) == {run.pk: [(model.model_id, 0), (model.model_id, 3)]}


def test_a_stranger_sees_no_models():
    model = LoggedModelFactory()
    stranger = ProjectMembershipFactory().user
    assert list(LoggedModel.objects.visible_to(stranger)) == []
    assert selectors.logged_model_get(user=stranger, model_id=model.model_id).role is None
