"""What an experiment's representation shows beside its own columns (latest metric values, key/value tags), read in
the list's own query as JSON aggregated per experiment, and put where prefetch_related would have put it."""

import json

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


LATEST_METRIC_ROW = {
    "id": "id",
    "key": "key",
    "value": FloatText("value"),
    "is_nan": "is_nan",
    "step": "step",
    "timestamp": "timestamp",
}
RUN_TAG_ROW = {"id": "id", "key": "key", "value": "value"}


def _related_from_json(instance, related_name: str, text: str | None, columns: dict, convert: dict) -> None:
    """Fill `instance`'s prefetch cache of `related_name` from the JSON rows read with it, as prefetch_related would.

    Writes that change these rows drop the cache (see tracking.services), so a read after them goes to the database.
    """
    manager = getattr(instance, related_name)
    model = manager.model
    names = list(columns)
    rows = []
    for values in json.loads(text) if text else ():
        fields = dict(zip(names, values, strict=True))
        for name, to_python in convert.items():
            fields[name] = to_python(fields[name])
        fields[manager.field.attname] = instance.pk
        row = model.from_db(instance._state.db, None, [fields[f.attname] for f in model._meta.concrete_fields])
        manager.field.set_cached_value(row, instance)
        rows.append(row)
    rows.sort(key=lambda row: row.key)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = queryset


class DisplayIterable(ModelIterable):
    """Model instances whose latest metrics and run tags, read as JSON in the same query, fill their prefetch caches."""

    def __iter__(self):
        for experiment in super().__iter__():
            metrics = experiment.__dict__.pop("_latest_metrics_json", None)
            tags = experiment.__dict__.pop("_run_tags_json", None)
            if not hasattr(experiment, "_prefetched_objects_cache"):
                experiment._prefetched_objects_cache = {}
            _related_from_json(
                experiment, "latest_metrics", metrics, LATEST_METRIC_ROW, {"value": float, "is_nan": bool}
            )
            _related_from_json(experiment, "run_tags", tags, RUN_TAG_ROW, {})
            yield experiment
