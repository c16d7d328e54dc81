"""The reads of metric histories that other code uses (the web UI's charts)."""

import math

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from tracking.models import MetricPoint

# A chart draws about this many points per series as legibly as a million, and the answer stays small and fast
# whatever a run logged.
HISTORY_POINTS_MAX = 1000


def metric_history_sample(*, experiment_id: int, key: str, limit: int = HISTORY_POINTS_MAX):
    """The history of metric `key` of an experiment in step order, as `(points, total)`: `points` are `(step, value)`
    (NaN and infinities as they are), at most `limit` of them; `total` is how many the history holds.

    A longer history is thinned to evenly spaced points (every n-th in step order), keeping the first and the last,
    chosen by the database so that only the points returned leave it."""
    history = MetricPoint.objects.filter(experiment_id=experiment_id, key=key)
    total = history.count()
    order = ("step", "timestamp", "value")
    if total <= limit:
        rows = history.order_by(*order).values_list("step", "value", "is_nan")
    else:
        stride = math.ceil((total - 1) / (limit - 1))
        numbered = history.annotate(row=Window(RowNumber(), order_by=[F(field).asc() for field in order]))
        wanted = [1 + index * stride for index in range((total - 1) // stride + 1)]
        if wanted[-1] != total:
            wanted.append(total)
        rows = numbered.filter(row__in=wanted).order_by(*order).values_list("step", "value", "is_nan")
    return [(step, math.nan if is_nan else value) for step, value, is_nan in rows], total
