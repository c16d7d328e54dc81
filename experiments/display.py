"""What an experiment's representation shows beside its own columns (latest metric values, key/value tags), read in
the list's own query as JSON aggregated per experiment."""

import math

import orjson
from django.db.models import Expression, TextField
from django.db.models.query import ModelIterable


class RowsOf(Expression):
    """An experiment's rows of `model` (a table keyed by `experiment`) as JSON text: an array with one array of
    `columns` per row (the `floats` among them as text that reads back as the same float, infinities included), or
    NULL or `[]` for none.

    Written as SQL rather than as a Subquery of an aggregate: building and compiling that subquery twice for every
    list request would cost more than its query takes to run. PostgreSQL evaluates it after the sort and the limit,
    for the rows returned only.
    """

    output_field = TextField()

    def __init__(self, model, columns: tuple[str, ...], floats: tuple[str, ...] = ()):
        super().__init__()
        self.model, self.columns, self.floats = model, columns, floats

    def _column(self, name: str, connection) -> str:
        column = connection.ops.quote_name(self.model._meta.get_field(name).column)
        if name not in self.floats:
            return column
        # PostgreSQL writes the shortest text that reads back exactly; SQLite's own text keeps 15 digits, and 17
        # significant digits read back as the same double (the format goes as a parameter, clear of `%` escaping).
        return f"PRINTF(%s, {column})" if connection.vendor == "sqlite" else f"CAST({column} AS TEXT)"

    def as_sql(self, compiler, connection):
        columns = ", ".join(self._column(name, connection) for name in self.columns)
        rows = f"JSON_GROUP_ARRAY(JSON_ARRAY({columns}))"
        if connection.vendor != "sqlite":
            rows = f"CAST(JSON_AGG(JSON_BUILD_ARRAY({columns})) AS TEXT)"
        quote = connection.ops.quote_name
        outer = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        outer_pk = f"{outer}.{quote(compiler.query.model._meta.pk.column)}"
        table = quote(self.model._meta.db_table)
        key = f"{table}.{quote(self.model._meta.get_field('experiment').column)}"
        sql = f"(SELECT {rows} FROM {table} WHERE {key} = {outer_pk})"
        params = ("%!.17g",) * len(self.floats) if connection.vendor == "sqlite" else ()
        return sql, params


def tag_values(rows: str | None) -> dict[str, str]:
    """Key/value tags read as RowsOf(RunTag, ("key", "value")), as a dict in key order."""
    return dict(sorted(orjson.loads(rows))) if rows else {}


def show(experiment):
    """Set an experiment's `results` and `run_tag_values` (cached properties of Experiment) from the JSON read with it
    by for_display(), as plain dicts: building model rows and related managers for them would cost more than the rest
    of a list request."""
    shown = experiment.__dict__
    metrics = shown.pop("_latest_metrics_json", None)
    tags = shown.pop("_run_tags_json", None)
    rows = sorted(orjson.loads(metrics)) if metrics else ()
    shown["results"] = {key: math.nan if is_nan else float(value) for key, value, is_nan in rows}
    shown["run_tag_values"] = tag_values(tags)
    return experiment


class DisplayIterable(ModelIterable):
    """Model instances read by for_display(), finished by show()."""

    def __iter__(self):
        for experiment in super().__iter__():
            yield show(experiment)
