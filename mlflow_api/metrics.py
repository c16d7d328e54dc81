"""The metric histories MLflow's client and UI read: `metrics/get-history` (one run, paged) and
`metrics/get-history-bulk-interval` (several runs, sampled)."""

from mlflow_api import lookups, paging
from mlflow_api.errors import MlflowError
from mlflow_api.fields import integer, run_id, text
from tracking import selectors
from tracking.models import number_to_json

HISTORY_MAX_RESULTS = 25_000
# MLflow's server: MAX_RUNS_GET_METRIC_HISTORY_BULK and MAX_RESULTS_PER_RUN.
BULK_MAX_RUNS = 100
BULK_MAX_RESULTS = 2500


def _point(key: str, value: float, is_nan: bool, timestamp: int, step: int) -> dict:
    return {"key": key, "value": number_to_json(value, is_nan=is_nan), "timestamp": timestamp, "step": step}


def metrics_get_history(request, data):
    run = lookups.run_for(user=request.user, run_id=run_id(data), operation="retrieve")
    max_results = integer(data, "max_results", default=HISTORY_MAX_RESULTS)
    if not 1 <= max_results <= HISTORY_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {HISTORY_MAX_RESULTS}.")
    key = text(data, "metric_key")
    rows, token = paging.page(
        selectors.metric_history(experiment_id=run.pk, key=key),
        max_results=max_results,
        page_token=text(data, "page_token", required=False),
    )
    answer = {"metrics": [_point(key, value, is_nan, ts, step) for value, is_nan, ts, step in rows]}
    if token:
        answer["next_page_token"] = token
    return answer


def _run_ids(data) -> list[str]:
    """`run_ids`, repeated in a query string (`?run_ids=a&run_ids=b`) or a list in a body."""
    values = data.getlist("run_ids") if hasattr(data, "getlist") else data.get("run_ids")
    if values in (None, [], ""):
        raise MlflowError("Missing value for required parameter 'run_ids'.")
    if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
        raise MlflowError("Invalid value for parameter 'run_ids': a list of run ids is required.")
    if len(values) > BULK_MAX_RUNS:
        raise MlflowError(
            f"GetMetricHistoryBulkInterval request must specify at most {BULK_MAX_RUNS} run_ids. "
            f"Received {len(values)} run_ids."
        )
    return values


def metrics_get_history_bulk_interval(request, data):
    """Up to `max_results` points of one metric of each run, evenly spaced over its steps (tracking's
    metric_history_sample), as MLflow's UI reads them to draw its charts."""
    ids = _run_ids(data)
    key = text(data, "metric_key")
    start_step, end_step = integer(data, "start_step"), integer(data, "end_step")
    max_results = integer(data, "max_results", default=BULK_MAX_RESULTS)
    if (start_step is None) != (end_step is None):
        raise MlflowError("If either start step or end step are specified, both must be specified.")
    if start_step is not None and start_step > end_step:
        raise MlflowError(
            f"end_step must be greater than start_step. Found start_step={start_step} and end_step={end_step}."
        )
    if not 1 <= max_results <= BULK_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {BULK_MAX_RESULTS}.")
    runs = {}
    for value in ids:
        run = lookups.run_for(user=request.user, run_id=value, operation="retrieve")
        runs[run.pk] = run.run_uuid
    sampled = selectors.metric_history_sample(
        experiment_ids=list(runs), key=key, max_results=max_results, start_step=start_step, end_step=end_step
    )
    metrics = [
        {**_point(key, value, is_nan, ts, step), "run_id": runs[pk]}
        for pk in runs
        for _, step, ts, value, is_nan in sampled.get(pk, [])
    ]
    return {"metrics": metrics} if metrics else {}
