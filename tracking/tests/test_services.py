import math

import pytest
from django.core.exceptions import ValidationError

from experiments.tests.factories import ExperimentFactory
from tracking.models import LatestMetric, MetricPoint
from tracking.services import Point, metrics_clear, metrics_record, metrics_set_latest

pytestmark = pytest.mark.django_db


def _history(experiment, key):
    rows = MetricPoint.objects.filter(experiment=experiment, key=key).order_by("step", "timestamp", "value")
    return [(row.step, row.timestamp, row.number) for row in rows]


def _latest(experiment):
    return {
        row.key: (row.step, row.timestamp, row.number) for row in LatestMetric.objects.filter(experiment=experiment)
    }


def test_points_are_stored_and_the_latest_is_the_greatest_step_not_the_last_written():
    experiment = ExperimentFactory()
    metrics_record(
        experiment=experiment,
        points=[Point("loss", 0.5, 10, 1000), Point("loss", 0.9, 3, 2000), Point("acc", 0.1, 0, 5)],
    )
    assert _history(experiment, "loss") == [(3, 2000, 0.9), (10, 1000, 0.5)]
    assert _latest(experiment) == {"loss": (10, 1000, 0.5), "acc": (0, 5, 0.1)}


def test_a_later_write_with_a_smaller_step_leaves_the_latest_alone():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("loss", 0.5, 10, 1000)])
    metrics_record(experiment=experiment, points=[Point("loss", 0.7, 2, 9000)])
    assert _latest(experiment) == {"loss": (10, 1000, 0.5)}


def test_at_the_same_step_the_later_timestamp_then_the_greater_value_wins():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("m", 1.0, 5, 100), Point("m", 0.5, 5, 200)])
    assert _latest(experiment) == {"m": (5, 200, 0.5)}
    metrics_record(experiment=experiment, points=[Point("m", 0.7, 5, 200)])
    assert _latest(experiment) == {"m": (5, 200, 0.7)}


def test_an_identical_point_sent_twice_is_stored_once():
    experiment = ExperimentFactory()
    points = [Point("loss", 0.25, 1, 1000), Point("loss", math.nan, 2, 1000)]
    metrics_record(experiment=experiment, points=points)
    metrics_record(experiment=experiment, points=points)
    assert MetricPoint.objects.filter(experiment=experiment).count() == 2


def test_non_finite_values_are_kept():
    experiment = ExperimentFactory()
    metrics_record(
        experiment=experiment,
        points=[Point("a", math.nan, 0, 1), Point("b", math.inf, 0, 1), Point("c", -math.inf, 0, 1)],
    )
    values = {row.key: row.number for row in MetricPoint.objects.filter(experiment=experiment)}
    assert math.isnan(values["a"])
    assert (values["b"], values["c"]) == (math.inf, -math.inf)
    latest = experiment.results
    assert math.isnan(latest["a"]) and latest["b"] == math.inf and latest["c"] == -math.inf


def test_set_latest_records_the_next_step_only_for_changed_values():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("loss", 0.5, 7, 1000)])
    metrics_set_latest(experiment=experiment, values={"loss": 0.5, "acc": 0.8})
    assert [step for step, _, _ in _history(experiment, "loss")] == [7]
    metrics_set_latest(experiment=experiment, values={"loss": 0.25})
    assert [(step, value) for step, _, value in _history(experiment, "loss")] == [(7, 0.5), (8, 0.25)]
    assert experiment.results == {"acc": 0.8, "loss": 0.25}


def test_clear_forgets_history_and_latest_values():
    experiment = ExperimentFactory(results={"loss": 1.0})
    metrics_clear(experiment=experiment)
    assert (MetricPoint.objects.count(), LatestMetric.objects.count(), experiment.results) == (0, 0, {})


@pytest.mark.parametrize(
    "point",
    [
        Point("", 1.0, 0, 0),
        Point("a" * 251, 1.0, 0, 0),
        Point("bad*key", 1.0, 0, 0),
        Point("../up", 1.0, 0, 0),
        Point("ok", 1.0, 2**63, 0),
        Point("ok", "1", 0, 0),
        Point("ok", True, 0, 0),
    ],
)
def test_invalid_points_are_refused_and_nothing_is_stored(point):
    experiment = ExperimentFactory()
    with pytest.raises(ValidationError):
        metrics_record(experiment=experiment, points=[Point("good", 1.0, 0, 0), point])
    assert MetricPoint.objects.count() == 0
