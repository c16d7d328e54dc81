"""The reads of metric histories that other code uses."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from common.numbers import INT64_MAX, INT64_MIN
from tracking.models import MetricPoint


def metric_history(*, experiment_id: int, key: str) -> QuerySet:
    """The history of metric `key` of an experiment as MLflow's client reads it, in time order: (value, is_nan,
    timestamp, step) rows."""
    return (
        MetricPoint.objects.filter(experiment_id=experiment_id, key=key)
        .order_by("timestamp", "step", "value")
        .values_list("value", "is_nan", "timestamp", "step")
    )


def metric_history_longer_than(*, experiment_id: int, key: str, count: int) -> bool:
    """Whether the history of metric `key` of an experiment holds more than `count` points, reading at most one more
    than that (an index range, however long the history)."""
    history = MetricPoint.objects.filter(experiment_id=experiment_id, key=key).order_by()
    return history.values("pk")[: count + 1].count() > count


# The columns of a sampled point, in this order.
SAMPLE_COLUMNS = ("experiment_id", "step", "timestamp", "value", "is_nan")


def _target(vendor: str) -> str:
    """The SQL of the first step of the i-th of `n` buckets that split the steps from `lo` to `hi` as SQL's NTILE(n)
    splits rows (the first `count % n` buckets one longer): exact on PostgreSQL (numeric, where a bigint could
    overflow, and the result a bigint again), integer arithmetic on SQLite (which turns an overflow into a float
    rather than an error)."""
    if vendor == "postgresql":
        # Back to a bigint (the step lies between lo and hi): compared with a numeric, the step column would be cast
        # for every row, and the index could only start the scan, not seek to the step.
        count = "(CAST(b.hi AS NUMERIC) - b.lo + 1)"
        return f"CAST(b.lo + s.i * FLOOR({count} / %(n)s) + LEAST(s.i, MOD({count}, %(n)s)) AS BIGINT)"
    count = "(b.hi - b.lo + 1)"
    return f"b.lo + s.i * ({count} / %(n)s) + MIN(s.i, {count} %% %(n)s)"


def metric_history_sample(
    *, experiment_ids: Iterable[int], key: str, max_results: int, start_step: int | None, end_step: int | None
) -> dict[int, list[tuple]]:
    """At most `max_results` points of metric `key` of each experiment, evenly spaced over its steps from `start_step`
    to `end_step` (by default all of them), the first and the last point of that range always among them. By
    experiment, each in the history's order, as SAMPLE_COLUMNS.

    As MLflow's server samples, where a run logs each step once: the range's steps split into `max_results` buckets as
    SQL's NTILE splits rows, the first point of each bucket, and the range's last point in place of the last bucket's
    when that makes one too many. MLflow counts the rows logged, which needs every one of them read; this counts step
    values, so that each point is one seek in the history's unique index (experiment, key, step, timestamp, value,
    is_nan) that stops at its first row, and a million-point history costs what a short one does. Where steps are
    skipped or repeated the two differ: here buckets span equal ranges of step values, and a step logged many times
    gives its first point (and the range's last).
    """
    experiment_ids = list(experiment_ids)
    if not experiment_ids:
        return {}
    quote = connection.ops.quote_name
    history = quote(MetricPoint._meta.db_table)
    runs = MetricPoint._meta.get_field("experiment").related_model._meta
    run_pk = f"r.{quote(runs.pk.column)}"
    in_order = "p.step, p.timestamp, p.value, p.is_nan"
    last_first = "p.step DESC, p.timestamp DESC, p.value DESC, p.is_nan DESC"
    in_range = "p.key = %(key)s AND p.step >= %(start)s AND p.step <= %(end)s"
    of_run = "p.experiment_id = b.run AND p.key = %(key)s AND p.step >= b.lo AND p.step <= b.hi"
    sql = f"""
        WITH RECURSIVE
        bounds AS (
            SELECT {run_pk} AS run,
                (SELECT p.step FROM {history} p WHERE p.experiment_id = {run_pk} AND {in_range}
                    ORDER BY {in_order} LIMIT 1) AS lo,
                (SELECT p.step FROM {history} p WHERE p.experiment_id = {run_pk} AND {in_range}
                    ORDER BY {last_first} LIMIT 1) AS hi
            FROM {quote(runs.db_table)} r WHERE {run_pk} IN (%(runs)s)
        ),
        series(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM series WHERE i < %(n)s - 1),
        picks(id) AS (
            SELECT (SELECT p.id FROM {history} p WHERE {of_run} AND p.step >= {_target(connection.vendor)}
                ORDER BY {in_order} LIMIT 1)
            FROM bounds b CROSS JOIN series s WHERE b.lo IS NOT NULL
            UNION
            SELECT (SELECT p.id FROM {history} p WHERE {of_run} ORDER BY {last_first} LIMIT 1)
            FROM bounds b WHERE b.lo IS NOT NULL
        )
        SELECT {", ".join(f"p.{column}" for column in SAMPLE_COLUMNS)} FROM {history} p
        WHERE p.id IN (SELECT id FROM picks) ORDER BY p.experiment_id, {in_order}
    """
    placeholders = ", ".join(f"%(run{index})s" for index in range(len(experiment_ids)))
    params = {
        "key": key,
        "start": INT64_MIN if start_step is None else start_step,
        "end": INT64_MAX if end_step is None else end_step,
        "n": max_results,
        **{f"run{index}": pk for index, pk in enumerate(experiment_ids)},
    }
    sampled: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%(runs)s", placeholders), params)
        for row in cursor.fetchall():
            sampled.setdefault(row[0], []).append(row)
    # The last point comes beside the buckets' first, in place of the last bucket's where that makes one too many.
    return {
        pk: points if len(points) <= max_results else [*points[: max_results - 1], points[-1]]
        for pk, points in sampled.items()
    }
