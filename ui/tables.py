"""The table of a project's runs: which columns it shows, how it sorts and how it pages, all read from the URL's
query so that a table can be bookmarked.

`?metric=loss&metric=acc&param=lr` adds columns (a metric's latest value, a parameter's value) to the fixed ones;
`?filter=metrics.loss < 0.5 and params.lr = '0.01'` keeps the runs that match (MLflow's search grammar, as
experiments.search reads it; a filter it refuses shows why and no rows);
`?sort=-metric:loss` sorts by a column, `-` for descending; `?after=` is the keyset cursor of the next page: the sort
value and id of the last row shown, so that a page costs the same however deep it is. Rows without the sort value
(a metric a run never logged) come last in either direction.
"""

import base64
import binascii
import datetime
import json
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet

from experiments.selectors import run_table

PAGE_SIZE = 50
# Chosen columns of each kind at most: each is a subquery per row.
CHOSEN_MAX = 20
KEY_MAX_LENGTH = 250
DEFAULT_SORT = "-start"

# The fixed columns: label, the field they sort on, and the kind of its values (for the cursor).
FIXED = {
    "status": ("Status", "status", "text"),
    "name": ("Name", "name", "text"),
    "owner": ("Owner", "owner__username", "text"),
    "start": ("Start", "started_at", "datetime"),
    "duration": ("Duration", "duration", "duration"),
}


@dataclass
class Column:
    id: str  # as written in `sort`: `name`, `metric:loss`, `param:lr`
    label: str
    kind: str  # fixed, metric or param
    field: str  # the field or annotation it sorts on
    values: str  # text, number, datetime or duration
    sorted: str = ""  # "asc", "desc" or "" for the column the table is sorted by
    sort_query: str = ""  # the query string that sorts by it (descending when it is sorted ascending)


@dataclass
class RunsTable:
    project_id: int
    metrics: list[str]
    params: list[str]
    sort: str
    filter: str = ""
    # Why the filter was refused (then no rows show).
    filter_error: str = ""
    columns: list[Column] = field(default_factory=list)
    rows: list = field(default_factory=list)
    next_query: str | None = None
    first_query: str | None = None
    is_first_page: bool = True

    def query(self, **changes) -> str:
        """This table's query string, with `changes` (None removes a key)."""
        values = {"filter": self.filter, "metric": self.metrics, "param": self.params, "sort": self.sort}
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value}, doseq=True)


def _keys(values: list[str]) -> list[str]:
    """The chosen keys, in their order, each once, bounded."""
    keys: list[str] = []
    for value in values:
        if value and len(value) <= KEY_MAX_LENGTH and value not in keys:
            keys.append(value)
    return keys[:CHOSEN_MAX]


def _sort_column(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    return sort.removeprefix("-"), descending


def _encode_cursor(value, pk: int) -> str:
    if isinstance(value, datetime.datetime):
        value = value.isoformat()
    elif isinstance(value, datetime.timedelta):
        value = value // datetime.timedelta(microseconds=1)
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, values: str):
    """The (value, id) a cursor holds, or None for one that this sort did not make (then the first page shows)."""
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    if value is None:
        return None, pk
    try:
        if values == "datetime" and isinstance(value, str):
            return datetime.datetime.fromisoformat(value), pk
        if values == "duration" and isinstance(value, int) and not isinstance(value, bool):
            return datetime.timedelta(microseconds=value), pk
        if values == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return (value, pk) if math.isfinite(value) else None
    except (ValueError, OverflowError):
        return None
    if values == "text" and isinstance(value, str):
        return value, pk
    return None


def _after(column: Column, descending: bool, value, pk: int) -> Q:
    """The rows after (value, pk) in the table's order: by the column, nulls last, then by id."""
    beyond, id_beyond = ("lt", "lt") if descending else ("gt", "gt")
    if value is None:
        return Q(**{f"{column.field}__isnull": True, f"pk__{id_beyond}": pk})
    return (
        Q(**{f"{column.field}__{beyond}": value})
        | Q(**{column.field: value, f"pk__{id_beyond}": pk})
        | Q(**{f"{column.field}__isnull": True})
    )


def runs_table(*, project_id: int, query) -> RunsTable:
    """The page of project `project_id`'s runs that `query` (a request's GET) asks for."""
    metrics, params = _keys(query.getlist("metric")), _keys(query.getlist("param"))
    sort = query.get("sort") or DEFAULT_SORT
    sort_id, descending = _sort_column(sort)
    # Sorting by a metric or a parameter shows it.
    kind, _, key = sort_id.partition(":")
    if kind == "metric" and key and key not in metrics and len(key) <= KEY_MAX_LENGTH:
        metrics = [*metrics, key][-CHOSEN_MAX:]
    elif kind == "param" and key and key not in params and len(key) <= KEY_MAX_LENGTH:
        params = [*params, key][-CHOSEN_MAX:]

    columns = [Column(id=cid, label=label, kind="fixed", field=f, values=v) for cid, (label, f, v) in FIXED.items()]
    columns += [
        Column(id=f"param:{key}", label=key, kind="param", field=f"param_{index}", values="text")
        for index, key in enumerate(params)
    ]
    columns += [
        Column(id=f"metric:{key}", label=key, kind="metric", field=f"metric_{index}", values="number")
        for index, key in enumerate(metrics)
    ]
    by_id = {column.id: column for column in columns}
    if sort_id not in by_id:
        sort, sort_id, descending = DEFAULT_SORT, *_sort_column(DEFAULT_SORT)
    filter_string = query.get("filter", "").strip()
    table = RunsTable(
        project_id=project_id, metrics=metrics, params=params, sort=sort, filter=filter_string, columns=columns
    )
    for column in columns:
        if column.id == sort_id:
            column.sorted = "desc" if descending else "asc"
            next_sort = column.id if descending else f"-{column.id}"
        else:
            # Names read best from A; numbers, times and durations from the largest.
            next_sort = column.id if column.values == "text" else f"-{column.id}"
        column.sort_query = table.query(sort=next_sort)

    sorted_by = by_id[sort_id]
    table.first_query = table.query()
    try:
        runs: QuerySet = run_table(project_id=project_id, metrics=metrics, params=params, filter_string=filter_string)
    except ValidationError as exc:
        table.filter_error = " ".join(exc.messages)
        return table
    order = F(sorted_by.field).desc(nulls_last=True) if descending else F(sorted_by.field).asc(nulls_last=True)
    runs = runs.order_by(order, "-pk" if descending else "pk")
    cursor = _decode_cursor(query.get("after", ""), sorted_by.values)
    if cursor is not None:
        runs = runs.filter(_after(sorted_by, descending, *cursor))
        table.is_first_page = False
    page = list(runs[: PAGE_SIZE + 1])
    table.rows = [_row(run, table) for run in page[:PAGE_SIZE]]
    if len(page) > PAGE_SIZE:
        last = page[PAGE_SIZE - 1]
        table.next_query = table.query(after=_encode_cursor(_value(last, sorted_by), last.pk))
    table.first_query = table.query()
    return table


def _value(run, column: Column):
    value = run
    for part in column.field.split("__"):
        value = getattr(value, part, None)
    return value


@dataclass
class Row:
    run: object
    duration: str
    params: list[str]
    metrics: list[str]


def format_number(value: float | None, *, is_nan: bool = False) -> str:
    if is_nan:
        return "NaN"
    if value is None:
        return ""
    return f"{value:.6g}"


def _row(run, table: RunsTable) -> Row:
    params = [getattr(run, f"param_{index}") or "" for index in range(len(table.params))]
    metrics = [
        format_number(getattr(run, f"metric_{index}"), is_nan=getattr(run, f"metric_{index}_nan"))
        for index in range(len(table.metrics))
    ]
    return Row(run=run, duration=format_duration(run.duration), params=params, metrics=metrics)


def format_duration(duration: datetime.timedelta | None) -> str:
    if duration is None:
        return ""
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{duration.total_seconds():.1f}s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"
