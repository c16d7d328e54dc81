"""What an experiment's representation shows beside its own columns (latest metric values, key/value tags), read in
the list's own query as JSON aggregated per experiment (common.sql.RowsOf)."""

import math

from django.db.models.query import ModelIterable

from common.sql import rows_of


def tag_values(rows: str | None) -> dict[str, str]:
    """Key/value tags read as RowsOf(RunTag, ("key", "value")), as a dict in key order."""
    return dict(rows_of(rows))


def show(experiment):
    """Set an experiment's `results` and `run_tag_values` (cached properties of Experiment) from the JSON read with it
    by for_display(), as plain dicts: building model rows and related managers for them would cost more than the rest
    of a list request."""
    shown = experiment.__dict__
    metrics = shown.pop("_latest_metrics_json", None)
    tags = shown.pop("_run_tags_json", None)
    rows = rows_of(metrics)
    shown["results"] = {key: math.nan if is_nan else float(value) for key, value, is_nan in rows}
    shown["run_tag_values"] = tag_values(tags)
    return experiment


class DisplayIterable(ModelIterable):
    """Model instances read by for_display(), finished by show()."""

    def __iter__(self):
        for experiment in super().__iter__():
            yield show(experiment)
