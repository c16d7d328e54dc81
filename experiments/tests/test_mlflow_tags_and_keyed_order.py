"""The REST list finds experiments by the key/value tags MLflow's client sets (`?run_tag=`) and orders them by a
metric's latest value or a parameter (`?ordering=metrics.<key>`), as the web UI's runs table does."""

import pytest
from django.urls import reverse

from experiments.models import RunTag
from experiments.tests.factories import ExperimentFactory
from tracking.models import LatestMetric

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(user):
    a = ExperimentFactory(owner=user, name="a", parameters={"lr": "0.1", "depth": 3})
    b = ExperimentFactory(owner=user, name="b", parameters={"lr": "0.01"})
    c = ExperimentFactory(owner=user, name="c", parameters={})
    RunTag.objects.create(experiment=a, key="team", value="vision")
    RunTag.objects.create(experiment=b, key="team", value="speech")
    RunTag.objects.create(experiment=c, key="stage", value="vision")
    for run, loss in ((a, 0.5), (b, 0.25)):
        LatestMetric.objects.create(experiment=run, key="loss", value=loss, timestamp=1, step=0)
    LatestMetric.objects.create(experiment=c, key="loss", value=0.0, is_nan=True, timestamp=1, step=0)
    return a, b, c


def _names(client, **params) -> list[str]:
    response = client.get(reverse("experiment-list"), params)
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()]


@pytest.mark.parametrize(
    ("run_tag", "expected"),
    [("team:vision", ["a"]), ("team", ["a", "b"]), ("team:", []), ("stage:vision", ["c"]), ("vision", [])],
)
def test_run_tag_finds_experiments_by_their_mlflow_tags(user_client, runs, run_tag, expected):
    assert _names(user_client, run_tag=run_tag) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("metrics.loss", ["b", "a", "c"]),
        ("-metrics.loss", ["a", "b", "c"]),
        ("params.lr", ["b", "a", "c"]),
        ("-params.lr", ["a", "b", "c"]),
        ("metrics.nothing,-name", ["c", "b", "a"]),
    ],
)
def test_ordering_by_a_metric_or_a_parameter_puts_those_without_it_last(user_client, runs, ordering, expected):
    assert _names(user_client, ordering=ordering) == expected


def test_an_unknown_ordering_field_is_still_refused(user_client, runs):
    response = user_client.get(reverse("experiment-list"), {"ordering": "owner__password"})
    assert response.status_code == 400
