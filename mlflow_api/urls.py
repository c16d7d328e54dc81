from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from mlflow_api import artifacts, inputs, logged_models, metrics, views
from mlflow_api.errors import artifacts_not_implemented, endpoint_not_found

# (path under /api/2.0/mlflow/, handler, method, writes). The MLflow client never sends a trailing slash. A path may
# name parameters as MLflow's spells them (`{model_id}`), and several methods on one path are several rows.
ROUTES = [
    ("experiments/create", views.experiments_create, "POST", True),
    ("experiments/get", views.experiments_get, "GET", False),
    ("experiments/get-by-name", views.experiments_get_by_name, "GET", False),
    ("experiments/search", views.experiments_search, "POST", False),
    ("experiments/update", views.experiments_update, "POST", True),
    ("experiments/delete", views.experiments_delete, "POST", True),
    ("experiments/restore", views.experiments_restore, "POST", True),
    ("experiments/set-experiment-tag", views.experiments_set_tag, "POST", True),
    ("experiments/delete-experiment-tag", views.experiments_delete_tag, "POST", True),
    ("runs/create", views.runs_create, "POST", True),
    ("runs/get", views.runs_get, "GET", False),
    ("runs/update", views.runs_update, "POST", True),
    ("runs/delete", views.runs_delete, "POST", True),
    ("runs/restore", views.runs_restore, "POST", True),
    ("runs/search", views.runs_search, "POST", False),
    ("runs/log-metric", views.runs_log_metric, "POST", True),
    ("runs/log-parameter", views.runs_log_parameter, "POST", True),
    ("runs/set-tag", views.runs_set_tag, "POST", True),
    ("runs/delete-tag", views.runs_delete_tag, "POST", True),
    ("runs/log-batch", views.runs_log_batch, "POST", True),
    ("metrics/get-history", metrics.metrics_get_history, "GET", False),
    ("metrics/get-history-bulk-interval", metrics.metrics_get_history_bulk_interval, "GET", False),
    ("artifacts/list", artifacts.artifacts_list, "GET", False),
    ("runs/outputs", logged_models.runs_outputs, "POST", True),
    ("runs/log-model", logged_models.runs_log_model, "POST", True),
    ("runs/log-inputs", inputs.runs_log_inputs, "POST", True),
    ("experiments/search-datasets", inputs.experiments_search_datasets, "POST", False),
    ("logged-models", logged_models.create, "POST", True),
    ("logged-models/search", logged_models.search, "POST", False),
    ("logged-models/{model_id}", logged_models.get, "GET", False),
    ("logged-models/{model_id}", logged_models.finalize, "PATCH", True),
    ("logged-models/{model_id}", logged_models.delete, "DELETE", True),
    ("logged-models/{model_id}/tags", logged_models.set_tags, "PATCH", True),
    ("logged-models/{model_id}/tags/{tag_key}", logged_models.delete_tag, "DELETE", True),
    ("logged-models/{model_id}/params", logged_models.log_params, "POST", True),
]

# What each parameter of a path matches: a model's id is one segment, a tag's key may hold '/'.
PARAMETERS = {"{model_id}": r"(?P<model_id>[^/]+)", "{tag_key}": r"(?P<tag_key>.+)"}


def _pattern(path: str) -> str:
    for name, pattern in PARAMETERS.items():
        path = path.replace(name, pattern)
    return rf"^{path}/?$"


def _name(path: str) -> str:
    return "mlflow-" + path.replace("/", "-").replace("{", "").replace("}", "")


def _routes(*, only: set[str] | None = None, prefix: str = "mlflow-") -> list:
    """One URL per path (of `only`, by default all): the RPC of the request's method, or (any other method) the first,
    which answers 405."""
    by_path: dict[str, dict] = {}
    for route, handler, method, writes in ROUTES:
        if only is None or route in only:
            by_path.setdefault(route, {})[method] = views.endpoint(handler, method, writes=writes)
    return [
        re_path(_pattern(route), views.by_method(methods), name=prefix + _name(route).removeprefix("mlflow-"))
        for route, methods in by_path.items()
    ]


endpoints = [
    *_routes(),
    re_path(r"^(?P<path>.*)$", csrf_exempt(endpoint_not_found)),
]

# MLflow's other API roots, where nothing is offered yet (tracing is under /api/3.0/mlflow/traces): MLflow's JSON 404,
# which the client reports as ENDPOINT_NOT_FOUND rather than as a server error.
not_offered = [re_path(r"^(?P<path>.*)$", csrf_exempt(endpoint_not_found))]

# The RPCs MLflow's web UI reads under /ajax-api/2.0/mlflow/, where MLflow's server offers every RPC again.
AJAX_ROUTES = {"metrics/get-history-bulk-interval"}

urlpatterns = [
    re_path(r"^version/?$", views.version, name="mlflow-version"),
    path("api/2.0/mlflow/", include(endpoints)),
    path("api/3.0/mlflow/", include(not_offered)),
    path("ajax-api/2.0/mlflow/", include([*_routes(only=AJAX_ROUTES, prefix="mlflow-ajax-"), *not_offered])),
    path("ajax-api/", include(not_offered)),
    path(
        "api/2.0/mlflow-artifacts/",
        include(
            [
                re_path(r"^artifacts/?$", artifacts.ArtifactProxyListEndpoint.as_view(), name="mlflow-artifacts-list"),
                # Any character, newlines too: the path rule, not the route, refuses what a path must not hold.
                re_path(
                    r"^artifacts/(?P<path>[\s\S]+)$",
                    artifacts.ArtifactProxyEndpoint.as_view(),
                    name="mlflow-artifacts-file",
                ),
                # Multipart uploads (mpu/*), which the client uses only when told to.
                re_path(r"^(?P<path>.*)$", csrf_exempt(artifacts_not_implemented)),
            ]
        ),
    ),
]
