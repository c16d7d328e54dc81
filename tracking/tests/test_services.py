import math
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.http import Http404

from accounts.services import user_delete
from experiments.models import Experiment
from experiments.services import experiment_delete, experiment_record_metrics
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


def test_a_replayed_batch_with_new_points_stores_the_new_ones_once():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("loss", 0.5, 0, 1), Point("loss", 0.4, 1, 2)])
    metrics_record(
        experiment=experiment,
        points=[Point("loss", 0.5, 0, 1), Point("loss", 0.4, 1, 2), Point("loss", 0.3, 2, 3), Point("loss", 0.5, 0, 9)],
    )
    assert _history(experiment, "loss") == [(0, 1, 0.5), (0, 9, 0.5), (1, 2, 0.4), (2, 3, 0.3)]
    assert _latest(experiment) == {"loss": (2, 3, 0.3)}


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


def test_a_nan_loses_to_a_number_at_the_same_step_and_time_and_wins_at_a_later_step():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("m", -5.0, 3, 100)])
    metrics_record(experiment=experiment, points=[Point("m", math.nan, 3, 100)])
    assert _latest(experiment) == {"m": (3, 100, -5.0)}
    metrics_record(experiment=experiment, points=[Point("m", math.nan, 4, 100)])
    step, timestamp, value = _latest(experiment)["m"]
    assert (step, timestamp, math.isnan(value)) == (4, 100, True)
    metrics_record(experiment=experiment, points=[Point("m", -math.inf, 4, 100)])
    assert _latest(experiment) == {"m": (4, 100, -math.inf)}


def test_an_infinity_beats_a_finite_value_at_the_same_step_and_time():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("m", 1e300, 1, 1)])
    metrics_record(experiment=experiment, points=[Point("m", math.inf, 1, 1)])
    assert _latest(experiment) == {"m": (1, 1, math.inf)}
    metrics_record(experiment=experiment, points=[Point("m", 1e308, 1, 1)])
    assert _latest(experiment) == {"m": (1, 1, math.inf)}


def test_one_batch_moves_some_latest_values_and_leaves_the_others():
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("a", 1.0, 5, 1), Point("b", 2.0, 5, 1), Point("c", 3.0, 5, 1)])
    metrics_record(
        experiment=experiment,
        points=[Point("a", 9.0, 6, 1), Point("b", 9.0, 4, 9), Point("c", 3.0, 5, 1), Point("d", 4.0, 0, 0)],
    )
    assert _latest(experiment) == {"a": (6, 1, 9.0), "b": (5, 1, 2.0), "c": (5, 1, 3.0), "d": (0, 0, 4.0)}
    assert MetricPoint.objects.filter(experiment=experiment).count() == 6


def test_a_batch_of_many_keys_stores_every_point_and_every_latest_value():
    # More keys than one SQLite statement takes rows, so that the batch goes in several statements there.
    experiment = ExperimentFactory()
    points = [Point(f"k{index:03}", float(step), step, 1) for index in range(400) for step in (2, 1)]
    metrics_record(experiment=experiment, points=points)
    assert MetricPoint.objects.filter(experiment=experiment).count() == 800
    latest = _latest(experiment)
    assert len(latest) == 400
    assert latest["k000"] == (2, 1, 2.0)
    assert latest["k399"] == (2, 1, 2.0)


def test_keys_with_spaces_and_letters_of_any_script_are_stored_as_sent():
    experiment = ExperimentFactory()
    keys = ["train loss", "NULL", "précision/top 1", "a-b_c.d"]
    metrics_record(experiment=experiment, points=[Point(key, 1.5, 0, 0) for key in keys])
    assert sorted(MetricPoint.objects.filter(experiment=experiment).values_list("key", flat=True)) == [
        "NULL",
        "a-b_c.d",
        "précision/top 1",
        "train loss",
    ]
    assert sorted(_latest(experiment)) == ["NULL", "a-b_c.d", "précision/top 1", "train loss"]


def test_values_are_stored_exactly():
    experiment = ExperimentFactory()
    values = [0.1, 1 / 3, -2.5e-308, 1.7976931348623157e308, 5e-324, -0.0]
    metrics_record(experiment=experiment, points=[Point("m", value, step, 0) for step, value in enumerate(values)])
    assert [value for _, _, value in _history(experiment, "m")] == [
        0.1,
        0.3333333333333333,
        -2.5e-308,
        1.7976931348623157e308,
        5e-324,
        -0.0,
    ]


def test_a_batch_of_1000_points_takes_the_same_few_queries_as_one_point(django_assert_num_queries):
    experiment = ExperimentFactory()
    points = [Point(f"k{index % 10}", index / 3, index, 5) for index in range(1000)]
    # The lock (on SQLite, which has no row locks, the read of the experiment), the history, the latest values; on
    # PostgreSQL the history's insert is in a savepoint (tracking.services._insert_history).
    queries = 5 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(queries):
        experiment_record_metrics(experiment=experiment, points=points)
    with django_assert_num_queries(queries):
        experiment_record_metrics(experiment=experiment, points=[Point("k0", 5.0, 5000, 5)])
    assert MetricPoint.objects.filter(experiment=experiment).count() == 1001


def test_a_batch_into_an_experiment_deleted_since_it_was_read_is_404_and_stores_nothing():
    experiment = ExperimentFactory()
    experiment_id = experiment.pk
    Experiment.objects.filter(pk=experiment_id).delete()

    with pytest.raises(Http404), transaction.atomic():  # A request's transaction, as the views hold one.
        experiment_record_metrics(experiment=experiment, points=[Point("loss", 0.5, 0, 1)])

    assert not MetricPoint.objects.filter(experiment_id=experiment_id).exists()
    assert not LatestMetric.objects.filter(experiment_id=experiment_id).exists()


@pytest.mark.parametrize("delete", ["experiment", "owner"])
def test_deleting_an_experiment_or_its_owner_deletes_its_history(delete):
    experiment = ExperimentFactory()
    other = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("loss", 0.5, 0, 1), Point("loss", 0.4, 1, 2)])
    metrics_record(experiment=other, points=[Point("loss", 0.9, 0, 1)])

    if delete == "experiment":
        experiment_delete(experiment=experiment, actor=experiment.owner)
    else:
        user_delete(user=experiment.owner, actor=experiment.owner)

    assert list(MetricPoint.objects.values_list("experiment_id", "key", "step")) == [(other.pk, "loss", 0)]
    assert list(LatestMetric.objects.values_list("experiment_id", "key", "step")) == [(other.pk, "loss", 0)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only (SQLite has one writer)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delete", ["experiment", "owner"])
def test_a_delete_during_a_batch_waits_for_it_and_leaves_no_point_behind(delete):
    """The history has no foreign key constraint: the experiment's row lock is what keeps a batch that commits while
    a delete runs from leaving points without an experiment."""
    experiment = ExperimentFactory()
    metrics_record(experiment=experiment, points=[Point("loss", 0.5, 0, 1)])
    written, release = threading.Event(), threading.Event()

    def batch():
        try:
            with transaction.atomic():
                points = [Point("loss", 0.4, 1, 2), Point("acc", 0.9, 1, 2)]
                experiment_record_metrics(experiment=experiment, points=points)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=batch)
    writer.start()
    assert written.wait(10)
    # The delete starts while the batch holds its lock, and the batch commits a moment later.
    threading.Timer(0.5, release.set).start()
    if delete == "experiment":
        experiment_delete(experiment=experiment, actor=experiment.owner)
    else:
        user_delete(user=experiment.owner, actor=experiment.owner)
    writer.join(10)

    assert not Experiment.objects.filter(pk=experiment.pk).exists()
    assert MetricPoint.objects.filter(experiment_id=experiment.pk).count() == 0
    assert LatestMetric.objects.filter(experiment_id=experiment.pk).count() == 0
