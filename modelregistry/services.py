"""What may be done to registered models, their versions, tags and aliases, by any surface (the MLflow API, the REST
API, the admin).

Every rule is checked here against REGISTERED_MODEL_ACCESS with the acting user. A model lives in one project and
takes its roles from it; a version's source (a logged model, and the run it came from) must be of the same project, so
that whoever may load a version may read its files, and a version's files are the logged model's, referenced where
they are (a run's deletion never touches them). A source that is a folder of a run's artifacts (MLflow 2's models) is
copied into a new logged model of that run first (logged_model_from_run_files).
"""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from artifacts import services as artifacts
from common.db import validated_save
from experiments.models import Experiment
from loggedmodels import services as loggedmodels
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel, LoggedModelStatus
from modelregistry import tasks
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    ALIAS_MAX_LENGTH,
    MODEL_NAME_TAKEN,
    MODEL_TAG_VALUE_MAX_LENGTH,
    NAME_FORBIDDEN_CHARACTERS,
    VERSION_TAG_VALUE_MAX_LENGTH,
    AliasChange,
    ModelStage,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from modelregistry.signals import alias_moved
from projects.models import LifecycleStage, Project
from tracking import services as tracking

# MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<number>` are the reserved words of model URIs.
ALIAS_PATTERN = re.compile(r"^[\w\-]*$")
ALIAS_RESERVED_VERSION = re.compile(r"^[vV]\d+$")
# Stages a version moves to with `archive_existing_versions`, which then archives the others there.
ACTIVE_STAGES = (ModelStage.STAGING, ModelStage.PRODUCTION)


class ModelNameTaken(ValidationError):
    """The project already has a registered model of this name (MLflow's RESOURCE_ALREADY_EXISTS)."""


# ---------------------------------------------------------------------------------------------------------------------
# Rules of one value
# ---------------------------------------------------------------------------------------------------------------------


def validate_name(name) -> None:
    """MLflow's rule for a model's name: not empty, no `/` or `:`, and a path segment that stays itself."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Missing value for required parameter 'name'.")
    if any(char in name for char in NAME_FORBIDDEN_CHARACTERS):
        raise ValidationError(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if name in (".", "..") or name.startswith("..") or name != name.strip():
        raise ValidationError(f"Invalid model name '{name}'. A name must not resolve to another path or padding.")


def validate_alias(alias) -> None:
    if not isinstance(alias, str) or alias == "":
        raise ValidationError("Registered model alias name cannot be empty.")
    if not ALIAS_PATTERN.match(alias):
        raise ValidationError(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-)."
        )
    if len(alias) > ALIAS_MAX_LENGTH:
        raise ValidationError(f"Registered model alias name exceeds the maximum length of {ALIAS_MAX_LENGTH}.")
    if alias.lower() == "latest":
        raise ValidationError("'latest' alias name (case insensitive) is reserved.")
    if ALIAS_RESERVED_VERSION.match(alias):
        raise ValidationError(f"Version alias name '{alias}' is reserved.")


def canonical_stage(stage) -> str:
    """A stage as MLflow spells it, whatever the case (`staging` is Staging)."""
    stages = {choice.value.lower(): choice.value for choice in ModelStage}
    if not isinstance(stage, str) or stage.lower() not in stages:
        raise ValidationError(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ModelStage.values)}."
        )
    return stages[stage.lower()]


def _validate_tag(key, value, *, max_length: int) -> None:
    tracking.validate_key(key, what="tag")
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(f"The value of tag {key!r} must be a string of at most {max_length} characters.")


def _writable_project(project: Project) -> None:
    if project.lifecycle_stage != LifecycleStage.ACTIVE:
        raise ValidationError(f"The experiment {project.pk} is deleted: models are registered in active ones only.")


def _touch(model: RegisteredModel) -> None:
    """The model's `updated_at`, as MLflow moves its last_updated_timestamp when its versions change."""
    model.updated_at = timezone.now()
    RegisteredModel.objects.filter(pk=model.pk).update(updated_at=model.updated_at)


# ---------------------------------------------------------------------------------------------------------------------
# Registered models
# ---------------------------------------------------------------------------------------------------------------------


def registered_model_create(
    *,
    actor: User,
    project: Project,
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    placed_by_default: bool = False,
) -> RegisteredModel:
    """A new model in `project`, where the actor must be an editor. `placed_by_default`: the project is the actor's
    default one, chosen because the client named none; the model's first version moves it to its source's project."""
    model = RegisteredModel(
        project=project, name=name, description=description or "", creator=actor, placed_by_default=placed_by_default
    )
    REGISTERED_MODEL_ACCESS.require(actor, model, "create")
    _writable_project(project)
    validate_name(name)
    tags = dict(tags or {})
    for key, value in tags.items():
        _validate_tag(key, value, max_length=MODEL_TAG_VALUE_MAX_LENGTH)
    with transaction.atomic():
        _save_named(model)
        RegisteredModelTag.objects.bulk_create(
            [RegisteredModelTag(registered_model=model, key=key, value=value) for key, value in tags.items()]
        )
    return model


def _save_named(model: RegisteredModel, **save_kwargs) -> None:
    """Save, answering ModelNameTaken for a name the project already has (found by validation, or by the database when
    a concurrent request took it in between)."""
    try:
        validated_save(model, **save_kwargs)
    except ValidationError as exc:
        if MODEL_NAME_TAKEN in exc.message_dict.get("name", []):
            raise ModelNameTaken(f"Registered Model (name={model.name}) already exists.") from exc
        raise
    except IntegrityError as exc:
        raise ModelNameTaken(f"Registered Model (name={model.name}) already exists.") from exc


def registered_model_update(*, actor: User, model: RegisteredModel, description: str) -> RegisteredModel:
    """Set the description (editors and up)."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "update")
    model.description = description or ""
    validated_save(model, update_fields=["description", "updated_at"])
    return model


def registered_model_rename(*, actor: User, model: RegisteredModel, new_name: str) -> RegisteredModel:
    """Rename within the model's project (maintainers and up); its versions and aliases follow."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "rename")
    validate_name(new_name)
    model.name = new_name
    with transaction.atomic():
        _save_named(model, update_fields=["name", "updated_at"])
        ModelVersion.objects.filter(registered_model=model).update(updated_at=model.updated_at)
    return model


def registered_model_delete(*, actor: User, model: RegisteredModel) -> None:
    """Delete the model, its versions, tags and aliases (maintainers and up). The logged models and their files stay."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "destroy")
    model.delete()


def registered_model_set_tag(*, actor: User, model: RegisteredModel, key: str, value: str) -> None:
    REGISTERED_MODEL_ACCESS.require(actor, model, "tag")
    _validate_tag(key, value, max_length=MODEL_TAG_VALUE_MAX_LENGTH)
    RegisteredModelTag.objects.update_or_create(registered_model=model, key=key, defaults={"value": value})


def registered_model_delete_tag(*, actor: User, model: RegisteredModel, key: str) -> None:
    """Remove a tag; one that is not there is no error, as in MLflow."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "tag")
    tracking.validate_key(key, what="tag")
    RegisteredModelTag.objects.filter(registered_model=model, key=key).delete()


# ---------------------------------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------------------------------


def _follow_source(*, actor: User, model: RegisteredModel, project: Project) -> None:
    """Move a model placed in its creator's default project (and still without versions) to its first source's
    project, where the actor must be allowed to create models."""
    if not model.placed_by_default or model.last_version != 0:
        return
    if model.project_id != project.pk:
        moved = RegisteredModel(project=project, name=model.name)
        REGISTERED_MODEL_ACCESS.require(actor, moved, "create")
        _writable_project(project)
        model.project = project
        REGISTERED_MODEL_ACCESS.remember(actor, model, REGISTERED_MODEL_ACCESS.role(actor, moved))
    model.placed_by_default = False
    _save_named(model, update_fields=["project", "placed_by_default", "updated_at"])


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
        _validate_tag(key, value, max_length=VERSION_TAG_VALUE_MAX_LENGTH)
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
        _writable_project(model.project)
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
    _validate_tag(key, value, max_length=VERSION_TAG_VALUE_MAX_LENGTH)
    ModelVersionTag.objects.update_or_create(model_version=version, key=key, defaults={"value": value})


def model_version_delete_tag(*, actor: User, version: ModelVersion, key: str) -> None:
    REGISTERED_MODEL_ACCESS.require(actor, version, "tag")
    tracking.validate_key(key, what="tag")
    ModelVersionTag.objects.filter(model_version=version, key=key).delete()


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
        _touch(version.registered_model)
    return version


def model_version_delete(*, actor: User, version: ModelVersion) -> None:
    """Delete the version (maintainers and up); its number is never given again, and the aliases that pointed at it
    are removed (each a change the maintainers hear of). Its logged model and files stay."""
    REGISTERED_MODEL_ACCESS.require(actor, version, "destroy_version")
    model = version.registered_model
    with transaction.atomic():
        for alias in RegisteredModelAlias.objects.filter(model_version=version):
            _record_change(actor=actor, model=model, alias=alias.alias, from_version=version.version, to_version=None)
        version.delete()
        _touch(model)


# ---------------------------------------------------------------------------------------------------------------------
# Aliases
# ---------------------------------------------------------------------------------------------------------------------


def _record_change(
    *, actor: User, model: RegisteredModel, alias: str, from_version: int | None, to_version: int | None
) -> AliasChange:
    """Keep the change, tell the maintainers by mail and the `alias_moved` receivers, once it commits."""
    change = AliasChange.objects.create(
        registered_model=model,
        alias=alias,
        from_version=from_version,
        to_version=to_version,
        actor=actor,
        changed_at=timezone.now(),
    )
    tasks.alias_change_notify(change)

    def announce() -> None:  # A named function: a robust callback that fails is logged by its name.
        alias_moved.send_robust(sender=RegisteredModel, change=change)

    transaction.on_commit(announce, robust=True)
    return change


def alias_set(*, actor: User, model: RegisteredModel, alias: str, version: ModelVersion) -> RegisteredModelAlias:
    """Point `alias` at `version` (maintainers and up), recording who did it and when. Setting it where it already
    points changes nothing."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "alias")
    validate_alias(alias)
    if version.registered_model_id != model.pk:
        raise ValidationError(f"Version {version.version} is not a version of {model.name!r}.")
    with transaction.atomic():
        current = (
            RegisteredModelAlias.objects.select_for_update()
            .select_related("model_version")
            .filter(registered_model=model, alias=alias)
            .first()
        )
        if current is not None and current.model_version_id == version.pk:
            return current
        moment = timezone.now()
        if current is None:
            current = RegisteredModelAlias(registered_model=model, alias=alias)
            previous = None
        else:
            previous = current.model_version.version
        current.model_version, current.set_by, current.set_at = version, actor, moment
        validated_save(current)
        _record_change(actor=actor, model=model, alias=alias, from_version=previous, to_version=version.version)
    return current


def alias_delete(*, actor: User, model: RegisteredModel, alias: str) -> None:
    """Remove `alias` (maintainers and up); one that is not there is no error, as in MLflow."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "alias")
    if not isinstance(alias, str) or alias == "":
        raise ValidationError("Registered model alias name cannot be empty.")
    with transaction.atomic():
        current = (
            RegisteredModelAlias.objects.select_for_update()
            .select_related("model_version")
            .filter(registered_model=model, alias=alias)
            .first()
        )
        if current is None:
            return
        current.delete()
        _record_change(
            actor=actor, model=model, alias=alias, from_version=current.model_version.version, to_version=None
        )
