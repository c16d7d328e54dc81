"""What may be done to a registered model's versions, by any surface: create one from a source (a logged model, or a
folder of a run's files copied into one), describe, tag, move between stages and delete, checked against
REGISTERED_MODEL_ACCESS with the acting user (see modelregistry.services)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from artifacts import services as artifacts
from common.db import validated_save
from experiments.models import Experiment
from loggedmodels import services as loggedmodels
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel, LoggedModelStatus
from modelregistry.access import REGISTERED_MODEL_ACCESS

# MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<number>` are the reserved words of model URIs.
from modelregistry.aliases import record_alias_change
from modelregistry.models import (
    VERSION_TAG_VALUE_MAX_LENGTH,
    ModelStage,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
)
from modelregistry.services import (
    canonical_stage,
    put_tag,
    remove_tag,
    save_named,
    touch,
    validate_tag,
    writable_project,
)
from projects.models import Project

ACTIVE_STAGES = (ModelStage.STAGING, ModelStage.PRODUCTION)


def _follow_source(*, actor: User, model: RegisteredModel, project: Project) -> None:
    """Move a model placed in its creator's default project (and still without versions) to its first source's
    project, where the actor must be allowed to create models."""
    if not model.placed_by_default or model.last_version != 0:
        return
    if model.project_id != project.pk:
        moved = RegisteredModel(project=project, name=model.name)
        REGISTERED_MODEL_ACCESS.require(actor, moved, "create")
        writable_project(project)
        model.project = project
        REGISTERED_MODEL_ACCESS.remember(actor, model, REGISTERED_MODEL_ACCESS.role(actor, moved))
    model.placed_by_default = False
    save_named(model, update_fields=["project", "placed_by_default", "updated_at"])


def model_version_create(
    *,
    actor: User,
    model: RegisteredModel,
    logged_model: LoggedModel,
    source: str,
    storage_location: str,
    source_run: Experiment | None = None,
    run_uuid: str = "",
    run_link: str = "",
    description: str = "",
    tags: dict[str, str] | None = None,
) -> ModelVersion:
    """The next version of `model` (1 for the first, never a number given before), whose files are `logged_model`'s
    (at `storage_location`); editors and up. Its source must be of the model's project."""
    LOGGED_MODEL_ACCESS.require(actor, logged_model, "retrieve")
    tags = dict(tags or {})
    for key, value in tags.items():
        validate_tag(key, value, max_length=VERSION_TAG_VALUE_MAX_LENGTH)
    with transaction.atomic():
        # The row lock orders concurrent registrations: each reads the number the one before it gave.
        locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        model.last_version, model.placed_by_default, model.project_id = (
            locked.last_version,
            locked.placed_by_default,
            locked.project_id,
        )
        _follow_source(actor=actor, model=model, project=logged_model.project)
        REGISTERED_MODEL_ACCESS.require(actor, model, "create_version")
        if logged_model.project_id != model.project_id:
            raise ValidationError(
                f"The source {source!r} is in experiment {logged_model.project_id}, and the registered model "
                f"{model.name!r} in experiment {model.project_id}: a version's source must be in its model's "
                f"experiment. Register it under a model of experiment {logged_model.project_id} "
                f"('{logged_model.project_id}:<name>')."
            )
        if source_run is not None and source_run.project_id != model.project_id:
            raise ValidationError(f"The run {source_run.run_uuid} is not in experiment {model.project_id}.")
        writable_project(model.project)
        model.last_version += 1
        RegisteredModel.objects.filter(pk=model.pk).update(last_version=model.last_version, updated_at=timezone.now())
        version = ModelVersion(
            registered_model=model,
            version=model.last_version,
            description=description or "",
            creator=actor,
            source=source,
            run_uuid=run_uuid or (source_run.run_uuid if source_run is not None else ""),
            source_run=source_run,
            model_id=logged_model.model_id,
            logged_model=logged_model,
            storage_location=storage_location,
            run_link=run_link or "",
        )
        validated_save(version)
        ModelVersionTag.objects.bulk_create(
            [ModelVersionTag(model_version=version, key=key, value=value) for key, value in tags.items()]
        )
    model.refresh_from_db(fields=["updated_at"])
    return version


def logged_model_from_run_files(*, actor: User, run: Experiment, path: str, name: str) -> LoggedModel:
    """A READY logged model of `run` holding a copy of the run's files under `path` (a model that MLflow 2 logged as
    run artifacts), so that the version registered from it outlives the run and its files. Editors of the run's
    project."""
    model = loggedmodels.logged_model_create(actor=actor, project=run.project, name=name, source_run=run)
    prefix = path.strip("/")
    copied = 0
    folders = [prefix]
    while folders:
        folder = folders.pop()
        for entry in artifacts.artifact_list(actor=actor, experiment=run, path=folder):
            if entry.is_dir:
                folders.append(entry.path)
                continue
            stored = artifacts.artifact_open(actor=actor, experiment=run, path=entry.path)
            with stored.file as handle:
                relative = entry.path[len(prefix) :].lstrip("/") if prefix else entry.path
                loggedmodels.logged_model_file_put(
                    actor=actor, model=model, path=relative, stream=handle, length=stored.size
                )
            copied += 1
    if not copied:
        raise ValidationError(f"The run {run.run_uuid} has no files under {path!r} to register.")
    return loggedmodels.logged_model_finalize(actor=actor, model=model, status=LoggedModelStatus.READY)


def model_version_update(*, actor: User, version: ModelVersion, description: str) -> ModelVersion:
    REGISTERED_MODEL_ACCESS.require(actor, version, "update")
    version.description = description or ""
    version.save(update_fields=["description", "updated_at"])
    return version


def model_version_set_tag(*, actor: User, version: ModelVersion, key: str, value: str) -> None:
    REGISTERED_MODEL_ACCESS.require(actor, version, "tag")
    put_tag(version.tags, key, value, max_length=VERSION_TAG_VALUE_MAX_LENGTH)


def model_version_delete_tag(*, actor: User, version: ModelVersion, key: str) -> None:
    REGISTERED_MODEL_ACCESS.require(actor, version, "tag")
    remove_tag(version.tags, key)


def model_version_transition_stage(
    *, actor: User, version: ModelVersion, stage: str, archive_existing_versions: bool = False
) -> ModelVersion:
    """Move the version to `stage` (maintainers and up); with `archive_existing_versions`, which only Staging and
    Production take, the model's other versions in that stage are archived."""
    REGISTERED_MODEL_ACCESS.require(actor, version, "stage")
    stage = canonical_stage(stage)
    if archive_existing_versions and stage not in ACTIVE_STAGES:
        raise ValidationError(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {', '.join(ACTIVE_STAGES)}"
        )
    now = timezone.now()
    with transaction.atomic():
        if archive_existing_versions:
            ModelVersion.objects.filter(registered_model_id=version.registered_model_id, stage=stage).exclude(
                pk=version.pk
            ).update(stage=ModelStage.ARCHIVED, updated_at=now)
        version.stage = stage
        version.save(update_fields=["stage", "updated_at"])
        touch(version.registered_model)
    return version


def model_version_delete(*, actor: User, version: ModelVersion) -> None:
    """Delete the version (maintainers and up); its number is never given again, and the aliases that pointed at it
    are removed (each a change the maintainers hear of). Its logged model and files stay."""
    REGISTERED_MODEL_ACCESS.require(actor, version, "destroy_version")
    model = version.registered_model
    with transaction.atomic():
        for alias in RegisteredModelAlias.objects.filter(model_version=version):
            record_alias_change(
                actor=actor, model=model, alias=alias.alias, from_version=version.version, to_version=None
            )
        version.delete()
        touch(model)
