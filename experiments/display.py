"""What an experiment's representation shows beside its own columns (latest metric values, key/value tags), read in
the list's own query as JSON aggregated per experiment."""

import json
import math

from django.db.models import Aggregate, Expression, F, Func, OuterRef, Subquery, TextField
from django.db.models.query import ModelIterable


class FloatText(Func):
    """A float as text that reads back as the same float, infinities included (as `Infinity` or `Inf`)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL writes the shortest text that reads back exactly; SQLite's own text keeps 15 digits only.
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # 17 significant digits read back as the same double; the format goes as a parameter, clear of `%` escaping.
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"PRINTF(%s, {sql})", ("%!.17g", *params)


class JSONRows(Aggregate):
    """The aggregated rows as a JSON array (as text) of arrays, one per row, of the given expressions."""

    output_field = TextField()
    contains_aggregate = True

    def as_sql(self, compiler, connection, **extra_context):
        template = "CAST(JSON_AGG(JSON_BUILD_ARRAY(%(expressions)s)) AS TEXT)"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def rows_of(model, fields: dict[str, Expression | str]) -> Subquery:
    """An experiment's rows of `model` (a table keyed by `experiment`), in one value: JSON text, NULL for none."""
    rows = model.objects.filter(experiment_id=OuterRef("pk")).order_by().values("experiment_id")
    expressions = [F(field) if isinstance(field, str) else field for field in fields.values()]
    return Subquery(rows.annotate(rows=JSONRows(*expressions)).values("rows"))


# The columns read of each row, in this order.
LATEST_METRIC_ROW = {"key": "key", "value": FloatText("value"), "is_nan": "is_nan"}
RUN_TAG_ROW = {"key": "key", "value": "value"}


class DisplayIterable(ModelIterable):
    """Model instances whose latest metric values and run tags, read as JSON in the same query, are set as the
    `results` and `run_tag_values` they show (cached properties of Experiment), as plain dicts: building model rows
    and related managers for them cost more than the rest of a list request (measured)."""

    def __iter__(self):
        for experiment in super().__iter__():
            shown = experiment.__dict__
            metrics = shown.pop("_latest_metrics_json", None)
            tags = shown.pop("_run_tags_json", None)
            rows = sorted(json.loads(metrics)) if metrics else ()
            shown["results"] = {key: math.nan if is_nan else float(value) for key, value, is_nan in rows}
            shown["run_tag_values"] = dict(sorted(json.loads(tags))) if tags else {}
            yield experiment
