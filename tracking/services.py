from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from common.numbers import INT64_MAX, INT64_MIN
from tracking.models import METRIC_KEY_MAX_LENGTH, LatestMetric, MetricPoint, PointFields

if TYPE_CHECKING:  # The history belongs to experiments, a floor above: it knows their table through its foreign key.
    from experiments.models import Experiment

POINTS_MAX_COUNT = 1000
# A key as MLflow allows it: letters, digits, `_ - . /` and spaces, neither an absolute path nor one with a `..`
# segment. Written so that the OpenAPI schema can state it as the key's pattern, and matched whole.
KEY_PATTERN = re.compile(r"^(?!/)(?!(?:.*/)?\.\.(?:/|$))[\w\-. /]+$")
KEY_RULE = (
    f"1 to {METRIC_KEY_MAX_LENGTH} characters among letters, digits, underscores, dashes, periods, slashes and "
    "spaces; not an absolute or parent path."
)


class Point(NamedTuple):
    """One metric value to record: `timestamp` in milliseconds since the epoch.

    A named tuple, not a frozen dataclass: a batch makes a thousand of them, and a frozen dataclass takes twice as long
    to build (its __init__ sets each field through object.__setattr__)."""

    key: str
    value: float
    step: int
    timestamp: int


def now_ms() -> int:
    return int(time.time() * 1000)


def validate_key(key, *, what: str = "metric") -> None:
    """A key as MLflow allows it (KEY_PATTERN), of 1 to 250 characters."""
    if not isinstance(key, str) or not 1 <= len(key) <= METRIC_KEY_MAX_LENGTH or not KEY_PATTERN.fullmatch(key):
        raise ValidationError(f"Invalid {what} key {str(key)[:60]!r}: it must have {KEY_RULE}")


def _check_int64(number, name: str, key: str) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or not INT64_MIN <= number <= INT64_MAX:
        raise ValidationError(f"The {name} of metric {key!r} must be a 64-bit integer.")


def validate_points(points: list[Point]) -> None:
    valid_keys = set()
    # The usual types are told apart first with `type(...) is`: this loop runs a thousand times for one batch.
    for key, value, step, timestamp in points:
        if key not in valid_keys:
            validate_key(key)
            valid_keys.add(key)
        if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            _check_int64(step, "step", key)
        if type(timestamp) is not int or not INT64_MIN <= timestamp <= INT64_MAX:
            _check_int64(timestamp, "timestamp", key)
        if type(value) is not float and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValidationError(f"The value of metric {key!r} must be a number.")


_POINT_COLUMNS = ("experiment_id", "key", "step", "timestamp", "value", "is_nan")


def _rows(experiment_id: int, points: Iterable[Point]) -> list[tuple]:
    """Points as rows in _POINT_COLUMNS order, NaN encoded as PointFields says."""
    rows = []
    for point in points:
        nan = math.isnan(point.value)
        rows.append((experiment_id, point.key, point.step, point.timestamp, 0.0 if nan else float(point.value), nan))
    return rows


def _latest_order(row: tuple) -> tuple:
    """A row's place among the rows of its key: "latest" is the greatest (step, timestamp, value), and a NaN, which
    compares with nothing, is the least value."""
    return (row[1], row[2], row[3], not row[5], row[4])


def _array_literals(rows: list[tuple]) -> list[str]:
    """PostgreSQL array literals of the columns after experiment_id: one text parameter per column.

    Written here rather than by the driver, which matches every element of a list against a regular expression to
    decide its quoting: a third of the request's Python time for a batch of 1000 points. Nothing here needs that care:
    a valid key (KEY_PATTERN) holds no quote, backslash, brace or comma, and is quoted whole (for its spaces, and so
    that a key named NULL stays a string); the float's repr reads back exactly, `inf` included.
    """
    _, keys, steps, timestamps, values, nans = zip(*rows, strict=True)
    return [
        "{" + ",".join(f'"{key}"' for key in keys) + "}",
        "{" + ",".join(map(str, steps)) + "}",
        "{" + ",".join(map(str, timestamps)) + "}",
        "{" + ",".join(map(repr, values)) + "}",
        "{" + ",".join("t" if nan else "f" for nan in nans) + "}",
    ]


def _insert(model: type[PointFields], rows: list[tuple], *, conflict: str) -> None:
    """One multi-row INSERT of the rows of one experiment, ending with `conflict`, an ON CONFLICT clause in which the
    table is `current`.

    Plain SQL rather than the ORM: bulk_create and bulk_update spend most of a large batch's time assembling their SQL
    in Python, and neither can say "only where the new point comes later".
    """
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} AS current ({', '.join(map(quote, _POINT_COLUMNS))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column, whatever the number of rows: a multi-row VALUES binds six parameters a row, and
            # executemany sends a statement per row.
            arrays = "%s::varchar[], %s::bigint[], %s::bigint[], %s::float8[], %s::boolean[]"
            sql = f"{head} SELECT %s, * FROM unnest({arrays}) {conflict}"
            cursor.execute(sql, [rows[0][0], *_array_literals(rows)])
            return
        values = "(" + ", ".join(["%s"] * len(_POINT_COLUMNS)) + ")"
        # As many rows a statement as this SQLite binds parameters for (32766 by default since 3.32, 999 before):
        # Django assumes 999 everywhere, which would split a batch of 1000 points into 7 statements.
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = limit // len(_POINT_COLUMNS)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [value for row in chunk for value in row]
            cursor.execute(f"{head} VALUES {', '.join([values] * len(chunk))} {conflict}", params)


def _insert_history(rows: list[tuple]) -> None:
    """Store points in the history, each once.

    On PostgreSQL a plain INSERT comes first, in a savepoint, and ON CONFLICT DO NOTHING only if it meets a point
    already stored (a client's replay, which is rare). ON CONFLICT inserts every row speculatively, with a second WAL
    record for each, which costs more than the savepoint and the plain insert. SQLite's ON CONFLICT costs nothing
    more.
    """
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _insert(MetricPoint, rows, conflict="")
            return
        except IntegrityError:
            pass
    _insert(MetricPoint, rows, conflict="ON CONFLICT DO NOTHING")


# A stored latest point gives way to a later one, compared as _latest_order compares (NaN, stored as 0, the least of
# equal (step, timestamp)). Both databases compare row values; the WHERE sees the row as committed by a concurrent
# writer, so the later point wins whichever transaction commits first.
_LATEST_UPSERT = """ON CONFLICT ("experiment_id", "key") DO UPDATE SET
    "step" = excluded."step", "timestamp" = excluded."timestamp",
    "value" = excluded."value", "is_nan" = excluded."is_nan"
WHERE (excluded."step", excluded."timestamp", NOT excluded."is_nan", excluded."value")
    > (current."step", current."timestamp", NOT current."is_nan", current."value")"""


def metrics_record(*, experiment: Experiment, points: Iterable[Point]) -> None:
    """Record metric points in an experiment's history and move each key's latest value forward where they beat it;
    never into an experiment a tracking client deleted (Experiment.require_active).

    The caller holds the experiment's row lock (experiments.services.experiment_lock, a floor above) for its
    transaction: concurrent writers to one experiment then take their row locks one after the other (two batches
    upserting the same keys in another order would otherwise deadlock), and a delete, which takes the same lock, either
    comes after the points and removes them or finds the experiment gone. The history has no foreign key constraint
    (MetricPoint.experiment), so that lock is what keeps a point from outliving its experiment.

    A point identical to one stored (a client's replay after a timeout) is stored once. Two statements whatever the
    number of points: one insert of the history, one upsert of the latest value of each key in the batch (the batch's
    greatest point per key, chosen here).
    """
    experiment.require_active()
    points = list(points)
    validate_points(points)
    if not points:
        return
    # By key, in the unique index's order but for NaN (two points differing only by one NaN are rare): each row then
    # goes next to the one before in the index, which PostgreSQL inserts faster. And the last row of each key is its
    # latest.
    rows = sorted(_rows(experiment.pk, points), key=_latest_order)
    latest = {row[1]: row for row in rows}
    # No savepoint inside a caller's transaction: a failure here fails that transaction whole (as a failed statement
    # does on PostgreSQL anyway), which is what a batch wants, and a savepoint costs two round trips.
    with transaction.atomic(savepoint=False):
        _insert_history(rows)
        _insert(LatestMetric, list(latest.values()), conflict=_LATEST_UPSERT)
    experiment.forget_results()


def metrics_set_latest(*, experiment: Experiment, values: dict[str, float]) -> None:
    """Make `values` the latest values of their metrics, as writing an experiment's `results` does (under the
    experiment's lock, as metrics_record says).

    Each key whose latest value differs gets a point at the step after its latest one (step 0 for a new key), stamped
    now; a key whose latest value is already the one given records nothing, so that sending `results` back unchanged
    adds no history.
    """
    stored = {row.key: row for row in LatestMetric.objects.filter(experiment_id=experiment.pk, key__in=list(values))}
    timestamp = now_ms()
    points = []
    for key, value in values.items():
        row = stored.get(key)
        if row is not None and not row.is_nan and row.value == value:
            continue
        step = row.step + 1 if row is not None else 0
        points.append(Point(key=key, value=float(value), step=step, timestamp=timestamp))
    metrics_record(experiment=experiment, points=points)


def metrics_clear(*, experiment: Experiment) -> None:
    """Forget an experiment's metrics, history and latest values (a re-run starts afresh)."""
    with transaction.atomic():
        MetricPoint.objects.filter(experiment_id=experiment.pk).delete()
        LatestMetric.objects.filter(experiment_id=experiment.pk).delete()
    experiment.forget_results()
