from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from mlflow_api import artifacts, views
from mlflow_api.errors import artifacts_not_implemented, endpoint_not_found

# (path under /api/2.0/mlflow/, handler, method, writes). The MLflow client never sends a trailing slash.
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
    ("metrics/get-history", views.metrics_get_history, "GET", False),
    ("artifacts/list", artifacts.artifacts_list, "GET", False),
    ("logged-models/search", views.logged_models_search, "POST", False),
]

endpoints = [
    *[
        re_path(rf"^{path}/?$", views.endpoint(handler, method, writes=writes), name=f"mlflow-{path.replace('/', '-')}")
        for path, handler, method, writes in ROUTES
    ],
    re_path(r"^(?P<path>.*)$", csrf_exempt(endpoint_not_found)),
]

urlpatterns = [
    path("api/2.0/mlflow/", include(endpoints)),
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
