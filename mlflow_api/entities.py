"""Registry's objects in the shapes MLflow's client parses: string ids, upper-case statuses, times in milliseconds,
and lists of `{key, value}` pairs rather than objects."""

import json
from datetime import UTC, datetime

from experiments.models import Experiment, ExperimentStatus
from loggedmodels.models import LoggedModel, LoggedModelStatus
from mlflow_api.errors import MlflowError
from projects.models import Project
from runinputs.models import DatasetInput
from tracking.models import number_to_json

NOTE_TAG = "mlflow.note.content"
RUN_NAME_TAG = "mlflow.runName"

TO_MLFLOW_STATUS = {
    ExperimentStatus.DRAFT: "SCHEDULED",
    ExperimentStatus.RUNNING: "RUNNING",
    ExperimentStatus.COMPLETED: "FINISHED",
    ExperimentStatus.FAILED: "FAILED",
    ExperimentStatus.CANCELLED: "KILLED",
}
FROM_MLFLOW_STATUS = {mlflow: ours for ours, mlflow in TO_MLFLOW_STATUS.items()}
# The client may also send the protobuf enum's number.
STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def to_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def from_ms(milliseconds: int, *, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MlflowError(f"The {name} {milliseconds} is not a time in milliseconds since the epoch.") from exc


def param_text(value) -> str:
    """A parameter as MLflow shows it: a string as it is, anything else (set through the REST API) as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def artifact_location(project: Project) -> str:
    """Where the client stores an experiment's files: the artifact proxy (mlflow_api.artifacts). The caller's default
    project not made yet is experiment "0"."""
    return f"mlflow-artifacts:/{project.pk if project.pk is not None else 0}"


def artifact_uri(run: Experiment) -> str:
    """Where the client stores a run's files, under its experiment's location, as MLflow's tracking server says."""
    return f"mlflow-artifacts:/{run.project_id or 0}/{run.run_uuid}/artifacts"


TO_MLFLOW_MODEL_STATUS = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
FROM_MLFLOW_MODEL_STATUS = {mlflow: ours for ours, mlflow in TO_MLFLOW_MODEL_STATUS.items()}
# The client may also send the protobuf enum's number, and searches name the status without its prefix.
MODEL_STATUS_NUMBERS = {1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY", 3: "LOGGED_MODEL_UPLOAD_FAILED"}
MODEL_STATUS_WORDS = {"PENDING": LoggedModelStatus.PENDING, "READY": LoggedModelStatus.READY}
MODEL_STATUS_WORDS["FAILED"] = MODEL_STATUS_WORDS["UPLOAD_FAILED"] = LoggedModelStatus.FAILED


def logged_model_artifact_uri(model: LoggedModel) -> str:
    """Where the client stores a model's files, under its experiment's location, as MLflow's tracking server says."""
    return f"mlflow-artifacts:/{model.project_id}/models/{model.model_id}/artifacts"


def logged_model_json(model: LoggedModel) -> dict:
    info = {
        "model_id": model.model_id,
        "experiment_id": str(model.project_id),
        "name": model.name,
        "artifact_uri": logged_model_artifact_uri(model),
        "creation_timestamp_ms": to_ms(model.created_at),
        "last_updated_timestamp_ms": to_ms(model.updated_at),
        "status": TO_MLFLOW_MODEL_STATUS[model.status],
        "tags": [{"key": key, "value": value} for key, value in model.tags.items()],
    }
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run is not None:
        info["source_run_id"] = model.source_run.run_uuid
    if model.status_message:
        info["status_message"] = model.status_message
    return {
        "info": info,
        "data": {"params": [{"key": key, "value": value} for key, value in model.params.items()], "metrics": []},
    }


def experiment_json(project: Project) -> dict:
    """A project as an MLflow experiment; an unsaved one is the caller's default project, experiment "0", not yet
    made (services.unsaved_default_project)."""
    experiment_id = str(project.pk) if project.pk is not None else "0"
    tags = [{"key": tag.key, "value": tag.value} for tag in project.key_tags.all()] if project.pk is not None else []
    if project.description:
        tags.append({"key": NOTE_TAG, "value": project.description})
    return {
        "experiment_id": experiment_id,
        "name": project.name,
        "artifact_location": artifact_location(project),
        "lifecycle_stage": project.lifecycle_stage,
        "creation_time": to_ms(project.created_at),
        "last_update_time": to_ms(project.updated_at),
        "tags": tags,
    }


# What run_json reads of a run and its owner: a search of many runs loads these alone (`QuerySet.only`).
RUN_FIELDS = (
    "run_uuid",
    "project_id",
    "name",
    "owner__username",
    "status",
    "started_at",
    "finished_at",
    "lifecycle_stage",
    "tags",
    "parameters",
)


def run_info_json(run: Experiment) -> dict:
    experiment_id = str(run.project_id) if run.project_id is not None else ""
    info = {
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "experiment_id": experiment_id,
        "run_name": run.name,
        "user_id": run.owner.username,
        "status": TO_MLFLOW_STATUS[run.status],
        "start_time": to_ms(run.started_at),
        "artifact_uri": artifact_uri(run),
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.finished_at is not None:
        info["end_time"] = to_ms(run.finished_at)
    return info


def run_tags_json(run: Experiment, tags: dict[str, str] | None = None) -> list[dict]:
    tags = dict(tags) if tags is not None else {tag.key: tag.value for tag in run.run_tags.all()}
    # Plain labels (the REST API's list of strings) show as tags with an empty value.
    for label in run.tags:
        tags.setdefault(label, "")
    return [{"key": key, "value": value} for key, value in tags.items()]


def dataset_input_json(link: DatasetInput) -> dict:
    dataset = link.dataset
    shown = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    if dataset.schema:
        shown["schema"] = dataset.schema
    if dataset.profile:
        shown["profile"] = dataset.profile
    return {"tags": [{"key": key, "value": value} for key, value in link.tags.items()], "dataset": shown}


def run_inputs_json(datasets: list[DatasetInput] | None, models: list[str] | None) -> dict:
    inputs = {}
    if datasets:
        inputs["dataset_inputs"] = [dataset_input_json(link) for link in datasets]
    if models:
        inputs["model_inputs"] = [{"model_id": model_id} for model_id in models]
    return inputs


def run_json(
    run: Experiment,
    data: tuple[list, dict] | None = None,
    outputs: list[tuple[str, int]] | None = None,
    inputs: dict | None = None,
) -> dict:
    """A run; `data` (its metrics as MLflow JSON and its tags), when the caller fetched them in bulk; `outputs` (the
    ids and steps of the models it logged) and `inputs` (run_inputs_json)."""
    if data is None:
        metrics = [
            {"key": m.key, "value": number_to_json(m.number), "timestamp": m.timestamp, "step": m.step}
            for m in run.latest_metrics.all()
        ]
        tags = None
    else:
        metrics, tags = data
    return {
        "info": run_info_json(run),
        "data": {
            "metrics": metrics,
            "params": [{"key": key, "value": param_text(value)} for key, value in run.parameters.items()],
            "tags": run_tags_json(run, tags),
        },
        "inputs": inputs or {},
        "outputs": {"model_outputs": [{"model_id": model_id, "step": step} for model_id, step in outputs]}
        if outputs
        else {},
    }
