"""What may be done to logged models (MLflow 3's LoggedModel) and their files, by any surface.

A model takes its roles from its project (LOGGED_MODEL_ACCESS): editors of the project make models, finalize, tag them
and upload their files, viewers read them, maintainers delete them. A deleted model is kept, hidden, as MLflow keeps
it (`lifecycle_stage`); its files stay until its project is deleted.
"""

from typing import BinaryIO

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from accounts.models import User
from artifacts import services as artifacts
from experiments import services as experiments
from experiments.models import RUN_TAG_VALUE_MAX_LENGTH, Experiment
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel, LoggedModelInput, LoggedModelOutput, LoggedModelStatus
from projects.access import PROJECT_ACCESS
from projects.models import LifecycleStage, Project
from tracking import services as tracking

PARAM_VALUE_MAX_LENGTH = 6000
# MLflow's rule: a name is a path segment of its URIs (`models:/<name>/...`).
NAME_FORBIDDEN_CHARACTERS = ("/", ":", ".", "%", '"', "'")


class LoggedModelNotFound(ObjectDoesNotExist):
    """No such model, or no such tag on it."""


def _validate_name(name: str) -> None:
    if not name or any(char in name for char in NAME_FORBIDDEN_CHARACTERS):
        raise ValidationError(
            f"Invalid model name ({name!r}): a model name must be a non-empty string without any of "
            f"{' '.join(NAME_FORBIDDEN_CHARACTERS)}."
        )


def _validate_entries(entries: dict, *, what: str, max_length: int) -> None:
    """Tags and parameters alike: valid keys, string values of at most `max_length` characters."""
    for key, value in entries.items():
        tracking.validate_key(key, what=what)
        if not isinstance(value, str) or len(value) > max_length:
            raise ValidationError(f"The value of {what} {key!r} must be a string of at most {max_length} characters.")


def logged_model_create(
    *,
    actor: User,
    project: Project,
    name: str,
    model_type: str = "",
    source_run: Experiment | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> LoggedModel:
    """A new model, PENDING until its client finalizes it, in an active project where `actor` may add experiments;
    its source run, if any, must be of the same project."""
    PROJECT_ACCESS.require(actor, project, "add_experiment")
    if project.lifecycle_stage != LifecycleStage.ACTIVE:
        raise ValidationError(f"The experiment {project.pk} must be active to log models; it is deleted.")
    _validate_name(name)
    if source_run is not None and source_run.project_id != project.pk:
        raise ValidationError(f"The run {source_run.run_uuid} is not in the experiment {project.pk}.")
    tags, params = dict(tags or {}), dict(params or {})
    _validate_entries(tags, what="tag", max_length=RUN_TAG_VALUE_MAX_LENGTH)
    _validate_entries(params, what="parameter", max_length=PARAM_VALUE_MAX_LENGTH)
    model = LoggedModel(
        project=project,
        creator=actor,
        name=name,
        model_type=model_type or "",
        source_run=source_run,
        tags=tags,
        params=params,
    )
    model.full_clean()
    model.save()
    return model


def _writable(actor: User, model: LoggedModel) -> None:
    LOGGED_MODEL_ACCESS.require(actor, model, "log")
    if model.lifecycle_stage != LifecycleStage.ACTIVE:
        raise ValidationError(f"The model {model.model_id} is deleted.")


def logged_model_finalize(*, actor: User, model: LoggedModel, status: str, message: str = "") -> LoggedModel:
    """Record how the model's upload ended: READY or FAILED (a client may report again, as after a retry)."""
    _writable(actor, model)
    if status not in (LoggedModelStatus.READY, LoggedModelStatus.FAILED):
        raise ValidationError("A model is finalized as READY or UPLOAD_FAILED.")
    model.status, model.status_message = status, message
    model.save(update_fields=["status", "status_message", "updated_at"])
    return model


def _merge(model: LoggedModel, field: str, entries: dict[str, str]) -> LoggedModel:
    """Add `entries` to the model's `field` (tags or params) under a row lock, so that concurrent writers both land."""
    with transaction.atomic():
        model = LoggedModel.objects.select_for_update().get(pk=model.pk)
        setattr(model, field, {**getattr(model, field), **entries})
        model.save(update_fields=[field, "updated_at"])
    return model


def logged_model_set_tags(*, actor: User, model: LoggedModel, tags: dict[str, str]) -> LoggedModel:
    _writable(actor, model)
    _validate_entries(tags, what="tag", max_length=RUN_TAG_VALUE_MAX_LENGTH)
    return _merge(model, "tags", tags)


def logged_model_delete_tag(*, actor: User, model: LoggedModel, key: str) -> LoggedModel:
    _writable(actor, model)
    with transaction.atomic():
        model = LoggedModel.objects.select_for_update().get(pk=model.pk)
        if key not in model.tags:
            raise LoggedModelNotFound(f"No tag with key {key!r} on model {model.model_id}.")
        del model.tags[key]
        model.save(update_fields=["tags", "updated_at"])
    return model


def logged_model_log_params(*, actor: User, model: LoggedModel, params: dict[str, str]) -> LoggedModel:
    """Add parameters; one logged again takes its new value, as MLflow's server does for models."""
    _writable(actor, model)
    _validate_entries(params, what="parameter", max_length=PARAM_VALUE_MAX_LENGTH)
    return _merge(model, "params", params)


def logged_model_delete(*, actor: User, model: LoggedModel) -> None:
    """Delete softly: hidden from reads and searches, kept with its files. Maintainers and up."""
    LOGGED_MODEL_ACCESS.require(actor, model, "destroy")
    model.lifecycle_stage = LifecycleStage.DELETED
    model.save(update_fields=["lifecycle_stage", "updated_at"])


def run_log_outputs(*, actor: User, run: Experiment, outputs: list[tuple[LoggedModel, int]]) -> None:
    """Record models as outputs of an active run the actor may log to; each model must be one the actor may read."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    for model, _step in outputs:
        LOGGED_MODEL_ACCESS.require(actor, model, "retrieve")
    known = set(LoggedModelOutput.objects.filter(run=run).values_list("model_id", "step"))
    new = {(model.pk, step): model for model, step in outputs if (model.pk, step) not in known}
    LoggedModelOutput.objects.bulk_create(
        [LoggedModelOutput(run=run, model=model, step=step) for (_pk, step), model in new.items()],
        ignore_conflicts=True,
    )


def run_log_model_inputs(*, actor: User, run: Experiment, models: list[LoggedModel]) -> None:
    """Record models as inputs of an active run the actor may log to; each model must be one the actor may read."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    for model in models:
        LOGGED_MODEL_ACCESS.require(actor, model, "retrieve")
    LoggedModelInput.objects.bulk_create(
        [LoggedModelInput(run=run, model=model) for model in {model.pk: model for model in models}.values()],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------------------


def logged_model_file_put(*, actor: User, model: LoggedModel, path: str, stream: BinaryIO, length: int | None) -> int:
    """Store one file of the model. Editors of its project, while the model is not deleted."""
    _writable(actor, model)
    return artifacts.files_put(root=model.storage_root, path=path, stream=stream, length=length)


def logged_model_file_open(*, actor: User, model: LoggedModel, path: str) -> artifacts.StoredArtifact:
    LOGGED_MODEL_ACCESS.require(actor, model, "retrieve")
    return artifacts.files_open(root=model.storage_root, path=path)


def logged_model_file_list(*, actor: User, model: LoggedModel, path: str = "") -> list[artifacts.ArtifactEntry]:
    LOGGED_MODEL_ACCESS.require(actor, model, "retrieve")
    return artifacts.files_list(root=model.storage_root, path=path)


def logged_model_file_delete(*, actor: User, model: LoggedModel, path: str) -> None:
    LOGGED_MODEL_ACCESS.require(actor, model, "destroy")
    artifacts.files_delete(root=model.storage_root, path=path)
