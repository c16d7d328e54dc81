"""MLflow's model versions (`/api/2.0/mlflow/model-versions/...`): create one from a source, read, describe, move
between stages, tag and delete, as thin adapters on modelregistry.services (see mlflow_api.model_registry)."""

from urllib.parse import urlsplit

from loggedmodels import selectors as loggedmodels
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel
from mlflow_api import entities, lookups
from mlflow_api.errors import MlflowError, does_not_exist
from mlflow_api.fields import text
from mlflow_api.model_registry import key_values, model_for, model_version_json, version_for
from modelregistry import selectors
from modelregistry import services as registry
from modelregistry.access import REGISTERED_MODEL_ACCESS

# ---------------------------------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------------------------------


def _logged_model(request, model_id: str) -> LoggedModel:
    found = loggedmodels.logged_model_get(user=request.user, model_id=model_id, allow_deleted=True)
    if found is None:
        raise does_not_exist(f"Logged model with ID '{model_id}' not found.")
    LOGGED_MODEL_ACCESS.remember(request.user, found, found.role)
    LOGGED_MODEL_ACCESS.require(request.user, found, "retrieve")
    return found


def _invalid_source(source: str) -> MlflowError:
    return MlflowError(
        f"Invalid model version source: '{source}'. Registry registers the files it stores: a logged model "
        "('models:/m-<id>'), a folder of a run's artifacts ('runs:/<run_id>/<path>' or its 'mlflow-artifacts:/' URI) "
        "or another model version ('models:/<name>/<version>')."
    )


def _run_folder(request, source: str, run_id: str, path: str):
    """A run's folder of files: the logged model of that run and name if the client logged one, else a copy."""
    run = lookups.run_for(user=request.user, run_id=run_id, operation="retrieve")
    path = path.strip("/")
    if not path or ".." in path.split("/"):
        raise _invalid_source(source)
    name = path.rsplit("/", 1)[-1]
    return run, registry.logged_model_from_run_files(actor=request.user, run=run, path=path, name=name)


def resolve_source(request, source: str, model_id: str | None) -> tuple[LoggedModel, object]:
    """(logged model, run or None) whose files the source URI names, each of which the caller may read."""
    if model_id:
        logged = _logged_model(request, model_id)
        if source not in (f"models:/{model_id}", entities.logged_model_artifact_uri(logged)) and not source.startswith(
            entities.logged_model_artifact_uri(logged) + "/"
        ):
            raise MlflowError(
                f"Invalid model version source: '{source}'. The model_id request parameter must identify the "
                "resource that contains the source."
            )
        return logged, logged.source_run
    parts = urlsplit(source)
    if parts.netloc or ".." in parts.path.split("/"):
        raise _invalid_source(source)
    path = parts.path.lstrip("/")
    if parts.scheme == "models":
        name, _, suffix = path.partition("/")
        if not suffix and name.startswith("m-"):
            logged = _logged_model(request, name)
            return logged, logged.source_run
        model = model_for(request, name, "retrieve")
        version = selectors.model_version_get(model=model, version=suffix)
        if version.logged_model is None:
            raise _invalid_source(source)
        return _logged_model(request, version.model_id), version.source_run
    if parts.scheme == "runs":
        run_id, _, folder = path.partition("/")
        run, logged = _run_folder(request, source, run_id, folder)
        return logged, run
    if parts.scheme == "mlflow-artifacts":
        segments = path.split("/", 3)
        if len(segments) >= 3 and segments[1] == "models":
            logged = _logged_model(request, segments[2])
            if str(logged.project_id) != segments[0]:
                raise _invalid_source(source)
            return logged, logged.source_run
        if len(segments) == 4 and segments[2] == "artifacts":
            run, logged = _run_folder(request, source, segments[1], segments[3])
            if str(run.project_id) != segments[0]:
                raise _invalid_source(source)
            return logged, run
    raise _invalid_source(source)


def create_model_version(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    if not model.placed_by_default:  # Refused before any file is copied; a model yet to move is checked where it goes.
        REGISTERED_MODEL_ACCESS.require(request.user, model, "create_version")
    source = text(data, "source")
    logged, source_run = resolve_source(request, source, text(data, "model_id", required=False))
    run_id = text(data, "run_id", required=False)
    if run_id:
        source_run = lookups.run_for(user=request.user, run_id=run_id, operation="retrieve")
    version = registry.model_version_create(
        actor=request.user,
        model=model,
        logged_model=logged,
        source=source,
        storage_location=entities.logged_model_artifact_uri(logged),
        source_run=source_run,
        run_uuid=run_id or (source_run.run_uuid if source_run is not None else ""),
        run_link=text(data, "run_link", required=False, default=""),
        description=text(data, "description", required=False, default=""),
        tags=key_values(data, "tags"),
    )
    version = selectors.model_version_get(model=model, version=version.version)
    return {"model_version": model_version_json(version)}


def get_model_version(request, data):
    return {"model_version": model_version_json(version_for(request, data, "retrieve"))}


def update_model_version(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_update(
        actor=request.user, version=version, description=text(data, "description", required=False, default="")
    )
    return {"model_version": model_version_json(version)}


def delete_model_version(request, data):
    registry.model_version_delete(actor=request.user, version=version_for(request, data, "retrieve"))


def transition_stage(request, data):
    version = version_for(request, data, "retrieve")
    archive = data.get("archive_existing_versions", False)
    archive = archive if isinstance(archive, bool) else str(archive).lower() == "true"
    registry.model_version_transition_stage(
        actor=request.user, version=version, stage=text(data, "stage"), archive_existing_versions=archive
    )
    return {"model_version": model_version_json(version)}


def get_download_uri(request, data):
    return {"artifact_uri": version_for(request, data, "retrieve").storage_location}


def set_model_version_tag(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_set_tag(
        actor=request.user, version=version, key=text(data, "key"), value=data.get("value", "")
    )


def delete_model_version_tag(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_delete_tag(actor=request.user, version=version, key=text(data, "key"))
