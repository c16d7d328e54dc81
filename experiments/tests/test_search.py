"""The search grammar of runs in the experiments domain, as a surface other than MLflow's API (the web UI) uses it:
its own status names, the kinds other apps register (datasets), and errors as ValidationError."""

import pytest
from django.core.exceptions import ValidationError

from experiments import selectors
from experiments.models import ExperimentStatus
from experiments.search.grammar import Clause, parse_filter, parse_order_by
from experiments.tests.factories import ExperimentFactory
from projects.models import LifecycleStage
from projects.tests.factories import ProjectFactory
from runinputs.models import Dataset, DatasetInput
from tracking.services import metrics_set_latest

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs():
    project = ProjectFactory()
    names = {}
    for name, status, loss, lr in [
        ("a", ExperimentStatus.RUNNING, 0.5, "0.1"),
        ("b", ExperimentStatus.COMPLETED, 0.2, "0.01"),
        ("c", ExperimentStatus.COMPLETED, 0.9, "0.01"),
    ]:
        run = ExperimentFactory(owner=project.owner, project=project, name=name, status=status, parameters={"lr": lr})
        metrics_set_latest(experiment=run, values={"loss": loss})
        names[name] = run
    return project, names


def _search(project, filter_string, order_by=None):
    found = selectors.run_search(
        user=project.owner,
        project_ids=[project.pk],
        lifecycle_stages=[LifecycleStage.ACTIVE],
        filter_string=filter_string,
        order_by=order_by,
    )
    return [run.name for run in found]


def test_the_grammar_parses_clauses_and_order_terms():
    assert parse_filter("metrics.loss < 0.5 and params.lr = '0.01'") == [
        Clause("metric", "loss", "<", 0.5),
        Clause("param", "lr", "=", "0.01"),
    ]
    assert [(t.kind, t.key, t.ascending) for t in parse_order_by(["metrics.loss DESC", "name"])] == [
        ("metric", "loss", False),
        ("attribute", "name", True),
    ]


def test_runs_are_filtered_and_ordered_with_the_statuses_own_names(runs):
    project, _ = runs
    assert _search(project, "status = 'completed'", ["metrics.loss ASC"]) == ["b", "c"]
    assert _search(project, "params.lr = '0.01' and metrics.loss > 0.5") == ["c"]
    assert _search(project, "status LIKE 'RUN%'") == []
    assert _search(project, "status ILIKE 'RUN%'") == ["a"]


def test_a_dataset_clause_reads_the_inputs_runinputs_registered(runs):
    project, names = runs
    dataset = Dataset.objects.create(project=project, name="iris", digest="d1", source_type="local", source="/i")
    DatasetInput.objects.create(run=names["b"], dataset=dataset, tags={"mlflow.data.context": "training"})
    assert _search(project, "dataset.name = 'iris'") == ["b"]
    assert _search(project, "dataset.context = 'training'") == ["b"]


def test_a_malformed_filter_is_a_validation_error(runs):
    project, _ = runs
    with pytest.raises(ValidationError, match="Invalid comparator"):
        _search(project, "metrics.loss ~ 1")
