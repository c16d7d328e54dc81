"""The endpoints of MLflow's tracking API, each a thin adapter: read MLflow's fields, call a service, answer MLflow's
shape. Authentication is the project's default (bearer tokens), errors are MLflow's JSON (see errors.py)."""

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from experiments import services as experiments
from mlflow_api import entities, lookups, queries
from mlflow_api import services as mlflow
from mlflow_api.errors import MlflowError, mlflow_exception_handler
from mlflow_api.fields import integer, pairs, point, run_id, status, strings, text, time
from mlflow_api.inputs import run_extras
from projects import services as projects


class MlflowEndpoint(APIView):
    """One MLflow RPC: `handler(view, request, data)` answers a dict, and only `method` is accepted.

    `writes` tells whether the RPC writes, whatever its method: a read-only token may call the RPCs that only read,
    MLflow's searches included, which are POSTs (tokens.authentication.admit reads it).
    """

    permission_classes = [IsAuthenticated]
    renderer_classes = [ORJSONRenderer]
    # Not in the OpenAPI schema: MLflow's REST API reference documents these endpoints.
    schema = None
    method = "POST"
    writes = True
    handler = None

    def get_exception_handler(self):
        return mlflow_exception_handler

    def answer(self, request, **kwargs):
        if request.method != self.method:
            raise MethodNotAllowed(request.method)
        if request.method == "GET":
            data = request.query_params
        else:
            data = request.data if request.data is not None else {}
            if not isinstance(data, dict):
                raise MlflowError("The request body must be a JSON object.")
        # Path parameters (`logged-models/{model_id}`) come beside the body's fields.
        return Response(self.handler(request, data, **kwargs) or {})

    def get(self, request, *args, **kwargs):
        return self.answer(request, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.answer(request, **kwargs)

    def patch(self, request, *args, **kwargs):
        return self.answer(request, **kwargs)

    def delete(self, request, *args, **kwargs):
        return self.answer(request, **kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------------------------------


def _acting_on(lookup, name: str, operation: str, service):
    """The handler of an RPC that only names its object: `lookup(request, data, operation)` finds it (checking the
    caller's role for `operation`), and `service` acts on it as `name`, the caller as the actor."""

    def handler(request, data):
        service(**{name: lookup(request, data, operation)}, actor=request.user)

    handler.__name__ = service.__name__
    return handler


def experiments_create(request, data):
    project = mlflow.experiment_create(user=request.user, name=text(data, "name"), tags=pairs(data, "tags"))
    return {"experiment_id": str(project.pk)}


def experiments_get(request, data):
    project = lookups.project_for(user=request.user, experiment_id=text(data, "experiment_id"), operation="retrieve")
    return {"experiment": entities.experiment_json(project)}


def experiments_get_by_name(request, data):
    project = lookups.project_by_name(user=request.user, name=text(data, "experiment_name"))
    return {"experiment": entities.experiment_json(project)}


def experiments_search(request, data):
    found, token = queries.experiments_search(
        user=request.user,
        filter_string=text(data, "filter", required=False),
        view_type=data.get("view_type"),
        order_by=strings(data, "order_by"),
        max_results=integer(data, "max_results", default=1000),
        page_token=text(data, "page_token", required=False),
    )
    answer = {"experiments": [entities.experiment_json(project) for project in found]}
    if token:
        answer["next_page_token"] = token
    return answer


def _experiment(request, data, operation: str):
    return lookups.project_for(user=request.user, experiment_id=text(data, "experiment_id"), operation=operation)


def experiments_update(request, data):
    project = _experiment(request, data, "update")
    mlflow.experiment_rename(project=project, actor=request.user, new_name=text(data, "new_name"))


experiments_delete = _acting_on(_experiment, "project", "soft_delete", projects.project_soft_delete)
experiments_restore = _acting_on(_experiment, "project", "restore", projects.project_restore)


def experiments_set_tag(request, data):
    project = _experiment(request, data, "update")
    mlflow.experiment_set_tag(project=project, actor=request.user, key=text(data, "key"), value=data.get("value", ""))


def experiments_delete_tag(request, data):
    project = _experiment(request, data, "update")
    mlflow.experiment_delete_tag(project=project, actor=request.user, key=text(data, "key"))


# ---------------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------------


def _run(request, data, operation: str, *, checked: bool = False):
    return lookups.run_for(user=request.user, run_id=run_id(data, checked=checked), operation=operation)


def _run_answer(request, run_uuid: str) -> dict:
    run = lookups.run_for(user=request.user, run_id=run_uuid, operation="retrieve", shown=True)
    outputs, inputs = run_extras([run.pk])[run.pk]
    return {"run": entities.run_json(run, outputs=outputs, inputs=inputs)}


def runs_create(request, data):
    project = lookups.project_for(
        user=request.user,
        experiment_id=text(data, "experiment_id", required=False, default="0"),
        operation="add_experiment",
    )
    run = mlflow.run_create(
        user=request.user,
        project=project,
        run_name=text(data, "run_name", required=False),
        start_time=time(data, "start_time"),
        tags=pairs(data, "tags"),
    )
    return _run_answer(request, run.run_uuid)


def runs_get(request, data):
    return _run_answer(request, run_id(data))


def runs_update(request, data):
    run = _run(request, data, "log")
    mlflow.run_update(
        run=run,
        actor=request.user,
        status=status(data),
        end_time=time(data, "end_time"),
        run_name=text(data, "run_name", required=False),
    )
    return {"run_info": entities.run_info_json(run)}


runs_delete = _acting_on(_run, "experiment", "soft_delete", experiments.experiment_soft_delete)
runs_restore = _acting_on(_run, "experiment", "restore", experiments.experiment_restore)


def runs_log_metric(request, data):
    run = _run(request, data, "log")
    mlflow.run_log_batch(run=run, actor=request.user, metrics=[point(data)], params=[], tags=[])


def runs_log_parameter(request, data):
    run = _run(request, data, "log")
    param = {"key": text(data, "key"), "value": data.get("value")}
    mlflow.run_log_batch(run=run, actor=request.user, metrics=[], params=[param], tags=[])


def runs_set_tag(request, data):
    run = _run(request, data, "log")
    tag = {"key": text(data, "key"), "value": data.get("value", "")}
    mlflow.run_log_batch(run=run, actor=request.user, metrics=[], params=[], tags=[tag])


def runs_delete_tag(request, data):
    mlflow.run_delete_tag(run=_run(request, data, "log"), actor=request.user, key=text(data, "key"))


def runs_log_batch(request, data):
    run = _run(request, data, "log", checked=True)
    metrics = data.get("metrics") or []
    if not isinstance(metrics, list):
        raise MlflowError("Invalid value for parameter 'metrics': a list is required.")
    mlflow.run_log_batch(
        run=run,
        actor=request.user,
        metrics=[point(item) for item in metrics],
        params=pairs(data, "params"),
        tags=pairs(data, "tags"),
    )


def runs_search(request, data):
    found, token = queries.runs_search(
        user=request.user,
        experiment_ids=strings(data, "experiment_ids"),
        filter_string=text(data, "filter", required=False),
        run_view_type=data.get("run_view_type"),
        order_by=strings(data, "order_by"),
        max_results=integer(data, "max_results", default=1000),
        page_token=text(data, "page_token", required=False),
    )
    extras = run_extras([run.pk for run in found])
    answer = {"runs": [entities.run_json(run, queries.run_data(run), *extras[run.pk]) for run in found]}
    if token:
        answer["next_page_token"] = token
    return answer


# The MLflow server whose tracking protocol this one speaks (and whose client the system tests drive it with).
MLFLOW_VERSION = "3.17.2"


@require_GET
def version(request):
    """`GET /version`: the MLflow version, in plain text and without a login, as MLflow's server answers it."""
    return HttpResponse(MLFLOW_VERSION, content_type="text/plain; charset=utf-8")


# What this server offers, in the words of MLflow's server-info: no workspaces, trace archival, multipart or presigned
# transfers, no AI gateway; its store is SQL.
SERVER_INFO = {
    "store_type": "SqlStore",
    "workspaces_enabled": False,
    "trace_archival_enabled": False,
    "multipart_uploads_enabled": False,
    "multipart_downloads_enabled": False,
    "presigned_upload_run_id_supported": False,
    "presigned_upload_model_id_supported": False,
    "features_enabled": {"gateway": False},
}


@require_GET
def server_info(request):
    """`GET /api/3.0/mlflow/server-info`: what the server offers, without a login, as MLflow's server answers it. The
    client asks before each artifact transfer and remembers an answer of 200 (a 404 it asks again)."""
    return JsonResponse(SERVER_INFO)


def endpoint(handler, method: str = "POST", *, writes: bool = True):
    """The view of one RPC; a write runs in one transaction (a read does not: on SQLite that would take the lock)."""
    if method != "GET" and writes:
        handler = transaction.atomic(handler)
    attributes = {"handler": staticmethod(handler), "method": method, "writes": writes}
    return type(handler.__name__, (MlflowEndpoint,), attributes).as_view()


def by_method(views: dict):
    """One view for several RPCs on the same path, each picked by the request's method."""
    if len(views) == 1:
        return next(iter(views.values()))
    first = next(iter(views.values()))

    @csrf_exempt
    def view(request, *args, **kwargs):
        return views.get(request.method, first)(request, *args, **kwargs)

    return view
