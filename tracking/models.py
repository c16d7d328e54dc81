import math

from django.db import models

# Non-finite values as JSON has no words for them: the spelling MLflow uses on the wire, and our REST API too.
NON_FINITE_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
METRIC_KEY_MAX_LENGTH = 250


def number_to_json(value: float, *, is_nan: bool = False) -> float | str:
    """A metric value as JSON can carry it: finite numbers as numbers, NaN and infinities by name. `is_nan`: a stored
    point's flag (PointFields), whose value is then 0."""
    if is_nan or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class PointFields(models.Model):
    """A metric value at a step and a time. NaN is kept as `is_nan` with a value of 0: SQLite cannot store NaN (it
    becomes NULL) and a unique constraint would not match NULLs, so the one encoding works on every database.
    Infinities are stored as they are (both databases keep them)."""

    key = models.CharField(max_length=METRIC_KEY_MAX_LENGTH)
    step = models.BigIntegerField(default=0)
    # Milliseconds since the epoch, as tracking clients send it; not a datetime, whose range is smaller.
    timestamp = models.BigIntegerField()
    value = models.FloatField()
    is_nan = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def number(self) -> float:
        return math.nan if self.is_nan else self.value


class MetricPoint(PointFields):
    """One point of a metric's history. An identical point sent twice is stored once (clients replay writes)."""

    # No index of its own: the unique constraint's index starts with the experiment, and each index more is written
    # for every point stored. No foreign key constraint either: PostgreSQL would check one for every row inserted.
    # Instead every write locks the experiment's row and
    # checks that it exists, and every delete takes that lock before it deletes the history (tracking.services), so
    # that no point outlives its experiment; deletes still cascade here.
    experiment = models.ForeignKey(
        "experiments.Experiment",
        on_delete=models.CASCADE,
        related_name="metric_points",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        # The unique index also serves the history of one key, whose rows it keeps together.
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "key", "step", "timestamp", "value", "is_nan"],
                name="tracking_metricpoint_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}[{self.step}]={number_to_json(self.number)}"


class LatestMetric(PointFields):
    """The latest point of each metric of an experiment: the one with the greatest (step, timestamp, value), not the
    last one written. Kept up to date on every write, so that reading it (the experiment's results, searches by
    metric) never scans the history."""

    # No index of its own: the unique constraint's index starts with the experiment.
    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="latest_metrics", db_index=False
    )

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="tracking_latestmetric_one_per_key"),
        ]
        indexes = [models.Index(fields=["key", "value"], name="tracking_latest_key_value_idx")]

    def __str__(self) -> str:
        return f"{self.key}={number_to_json(self.number)}"
