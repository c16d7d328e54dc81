"""MLflow's artifact proxy (`mlflow server --serve-artifacts`), as MLflow's client calls it, on artifacts.services.

A run's `artifact_uri` is `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`, which the client turns into
`/api/2.0/mlflow-artifacts/artifacts/<experiment_id>/<run_id>/artifacts/<path>`: PUT uploads the request body, GET
downloads, DELETE deletes, and `GET /api/2.0/mlflow-artifacts/artifacts?path=...` lists a folder. A logged model's
files are at `<experiment_id>/models/<model_id>/artifacts/<path>` alike. The path is checked before anything else,
then the run (or model) it names, which must belong to the experiment it names; then the caller's role on it (a
model's: the role in its project). Refusals are MLflow's JSON errors, 4xx, which the client does not retry.
"""

from contextlib import contextmanager

from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import services as artifacts
from artifacts.downloads import artifact_response
from artifacts.paths import artifact_path_clean
from artifacts.uploads import drain, request_body
from experiments.models import Experiment
from loggedmodels import selectors as loggedmodels
from loggedmodels import services as models
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel
from mlflow_api import entities, lookups
from mlflow_api.errors import MlflowError, does_not_exist, mlflow_exception_handler
from mlflow_api.fields import run_id, text

ROOT = "artifacts"
MODELS = "models"


@contextmanager
def mlflow_errors():
    """The artifact services' refusals as MLflow's errors."""
    try:
        yield
    except artifacts.ArtifactNotFound as exc:
        raise does_not_exist(str(exc)) from exc
    except artifacts.ArtifactTooLarge as exc:
        raise MlflowError(str(exc), status=413) from exc
    except artifacts.ArtifactIncomplete as exc:
        raise MlflowError(str(exc)) from exc


def _locate_model(user, proxy_path: str, operation: str, *, allow_root: bool) -> tuple[LoggedModel, str]:
    parts = proxy_path.split("/", 4)
    if len(parts) < 4 or parts[3] != ROOT:
        raise MlflowError(f"A model's path must read '<experiment_id>/{MODELS}/<model_id>/{ROOT}/<path>'.")
    experiment_id, model_id = parts[0], parts[2]
    path = artifact_path_clean(parts[4] if len(parts) == 5 else "", allow_root=allow_root)
    # A deleted model's files stay readable, as on MLflow's server: a registered version may still use them.
    model = loggedmodels.logged_model_get(user=user, model_id=model_id, allow_deleted=operation == "retrieve")
    if model is None or str(model.project_id) != experiment_id:
        raise does_not_exist(f"Logged model with ID '{model_id}' not found in experiment {experiment_id}.")
    LOGGED_MODEL_ACCESS.remember(user, model, model.role)
    LOGGED_MODEL_ACCESS.require(user, model, operation)
    return model, path


def locate(user, proxy_path: str, operation: str, *, allow_root: bool = False) -> tuple[Experiment | LoggedModel, str]:
    """The run (or logged model) and the path within it that a proxy path `<experiment_id>/<run_id>/artifacts/<path>`
    (or `<experiment_id>/models/<model_id>/artifacts/<path>`) names."""
    parts = proxy_path.split("/", 3)
    if len(parts) >= 2 and parts[1] == MODELS:
        return _locate_model(user, proxy_path, operation, allow_root=allow_root)
    if len(parts) < 3 or parts[2] != ROOT:
        raise MlflowError(f"An artifact path must read '<experiment_id>/<run_id>/{ROOT}/<path>', not {proxy_path!r}.")
    experiment_id, run_uuid = parts[0], parts[1]
    path = artifact_path_clean(parts[3] if len(parts) == 4 else "", allow_root=allow_root)
    run = lookups.run_for(user=user, run_id=run_uuid, operation=operation)
    if str(run.project_id or 0) != experiment_id:
        raise does_not_exist(f"Run with id={run_uuid} not found in experiment {experiment_id}.")
    return run, path


def _open(user, owner: Experiment | LoggedModel, path: str):
    if isinstance(owner, LoggedModel):
        return models.logged_model_file_open(actor=user, model=owner, path=path)
    return artifacts.artifact_open(actor=user, experiment=owner, path=path)


def _put(user, owner: Experiment | LoggedModel, path: str, stream, length) -> None:
    if isinstance(owner, LoggedModel):
        models.logged_model_file_put(actor=user, model=owner, path=path, stream=stream, length=length)
    else:
        artifacts.artifact_put(actor=user, experiment=owner, path=path, stream=stream, length=length)


def _delete(user, owner: Experiment | LoggedModel, path: str) -> None:
    if isinstance(owner, LoggedModel):
        models.logged_model_file_delete(actor=user, model=owner, path=path)
    else:
        artifacts.artifact_delete(actor=user, experiment=owner, path=path)


def _list(user, owner: Experiment | LoggedModel, path: str) -> list[artifacts.ArtifactEntry]:
    if isinstance(owner, LoggedModel):
        return models.logged_model_file_list(actor=user, model=owner, path=path)
    return artifacts.artifact_list(actor=user, experiment=owner, path=path)


class _ProxyEndpoint(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [ORJSONRenderer]
    # The body is never parsed: an upload is streamed to storage.
    parser_classes = []
    # Not in the OpenAPI schema: MLflow's documentation describes these routes.
    schema = None

    def get_exception_handler(self):
        return mlflow_exception_handler


class ArtifactProxyEndpoint(_ProxyEndpoint):
    """One file of a run or a logged model: PUT uploads it (editors), GET downloads it (viewers), DELETE deletes it
    (maintainers)."""

    def get(self, request, path: str):
        owner, path = locate(request.user, path, "retrieve")
        with mlflow_errors():
            stored = _open(request.user, owner, path)
        return artifact_response(request._request, stored)

    def put(self, request, path: str):
        stream, length = request_body(request._request)
        try:
            owner, path = locate(request.user, path, "log")
            with mlflow_errors():
                _put(request.user, owner, path, stream, length)
        except Exception:
            drain(stream, length)
            raise
        return Response({})

    def delete(self, request, path: str):
        owner, path = locate(request.user, path, "destroy")
        with mlflow_errors():
            _delete(request.user, owner, path)
        return Response({})


def _file_json(entry: artifacts.ArtifactEntry, path: str) -> dict:
    answer = {"path": path, "is_dir": entry.is_dir}
    if not entry.is_dir:
        answer["file_size"] = entry.size
    return answer


class ArtifactProxyListEndpoint(_ProxyEndpoint):
    """The files and folders in one folder of a run or a logged model, named relative to that folder. Viewers and up."""

    def get(self, request):
        proxy_path = text(request.query_params, "path")
        owner, path = locate(request.user, proxy_path, "retrieve", allow_root=True)
        with mlflow_errors():
            entries = _list(request.user, owner, path)
        prefix = f"{path}/" if path else ""
        return Response({"files": [_file_json(entry, entry.path.removeprefix(prefix)) for entry in entries]})


def artifacts_list(request, data):
    """`GET /api/2.0/mlflow/artifacts/list`: the files and folders in one folder of a run, named from its root."""
    run = lookups.run_for(user=request.user, run_id=run_id(data), operation="retrieve")
    path = text(data, "path", required=False, default="")
    with mlflow_errors():
        entries = artifacts.artifact_list(actor=request.user, experiment=run, path=path)
    return {
        "root_uri": entities.artifact_uri(run),
        "files": [_file_json(entry, entry.path) for entry in entries],
    }
