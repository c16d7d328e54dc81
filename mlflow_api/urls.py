from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from mlflow_api import artifacts, inputs, logged_models, metrics, registry_search, views
from mlflow_api import model_registry as registry
from mlflow_api import model_versions as versions
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
    # The model registry, with the methods MLflow's client uses (its protobuf service's first endpoint of each RPC;
    # get-latest-versions also answers GET, its second).
    ("registered-models/create", registry.create_registered_model, "POST", True),
    ("registered-models/get", registry.get_registered_model, "GET", False),
    ("registered-models/rename", registry.rename_registered_model, "POST", True),
    ("registered-models/update", registry.update_registered_model, "PATCH", True),
    ("registered-models/delete", registry.delete_registered_model, "DELETE", True),
    ("registered-models/search", registry_search.search_registered_models, "GET", False),
    ("registered-models/get-latest-versions", registry.get_latest_versions, "POST", False),
    ("registered-models/get-latest-versions", registry.get_latest_versions, "GET", False),
    ("registered-models/set-tag", registry.set_registered_model_tag, "POST", True),
    ("registered-models/delete-tag", registry.delete_registered_model_tag, "DELETE", True),
    ("registered-models/alias", registry.set_alias, "POST", True),
    ("registered-models/alias", registry.delete_alias, "DELETE", True),
    ("registered-models/alias", registry.get_version_by_alias, "GET", False),
    ("model-versions/create", versions.create_model_version, "POST", True),
    ("model-versions/get", versions.get_model_version, "GET", False),
    ("model-versions/update", versions.update_model_version, "PATCH", True),
    ("model-versions/delete", versions.delete_model_version, "DELETE", True),
    ("model-versions/search", registry_search.search_model_versions, "GET", False),
    ("model-versions/transition-stage", versions.transition_stage, "POST", True),
    ("model-versions/get-download-uri", versions.get_download_uri, "GET", False),
    ("model-versions/set-tag", versions.set_model_version_tag, "POST", True),
    ("model-versions/delete-tag", versions.delete_model_version_tag, "DELETE", True),
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
    path("api/3.0/mlflow/server-info", views.server_info, name="mlflow-server-info"),
    path("ajax-api/3.0/mlflow/server-info", views.server_info, name="mlflow-ajax-server-info"),
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
