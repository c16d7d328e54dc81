"""The rules of run inputs, against the database."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from experiments.models import ExperimentStatus
from experiments.tests.factories import ExperimentFactory
from projects.models import ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from runinputs import selectors, services
from runinputs.models import Dataset, DatasetInput

pytestmark = pytest.mark.django_db


def iris(**changes) -> services.DatasetFields:
    fields = {"name": "iris", "digest": "d1", "source_type": "local", "source": "/iris.csv"}
    return services.dataset_fields(**{**fields, **changes})


@pytest.fixture
def run():
    project = ProjectFactory()
    return ExperimentFactory(owner=project.owner, project=project, status=ExperimentStatus.RUNNING)


def test_a_viewer_may_not_log_datasets_and_nothing_is_stored(run):
    viewer = ProjectMembershipFactory(project=run.project, role=ProjectRole.VIEWER).user
    with pytest.raises(PermissionDenied):
        services.run_log_datasets(actor=viewer, run=run, datasets=[iris()])
    assert not Dataset.objects.exists()


def test_a_finished_run_still_takes_inputs_as_it_takes_metrics(run):
    run.status = ExperimentStatus.COMPLETED
    run.save()
    services.run_log_datasets(actor=run.owner, run=run, datasets=[iris()])
    assert DatasetInput.objects.count() == 1


def test_the_same_name_with_another_digest_is_another_dataset(run):
    services.run_log_datasets(actor=run.owner, run=run, datasets=[iris(), iris(digest="d2"), iris()])
    assert list(Dataset.objects.values_list("name", "digest")) == [("iris", "d1"), ("iris", "d2")]
    assert [link.dataset.digest for link in selectors.run_dataset_inputs(run_ids=[run.pk])[run.pk]] == ["d1", "d2"]


@pytest.mark.parametrize(
    "changes",
    [{"name": ""}, {"digest": "x" * 37}, {"source_type": None}, {"source": ["a"]}, {"tags": [("", "v")]}],
)
def test_a_dataset_outside_mlflows_limits_is_refused(changes):
    with pytest.raises(ValidationError):
        iris(**changes)


def test_a_run_outside_any_project_records_no_datasets():
    run = ExperimentFactory(project=None, status=ExperimentStatus.RUNNING)
    with pytest.raises(ValidationError):
        services.run_log_datasets(actor=run.owner, run=run, datasets=[iris()])
