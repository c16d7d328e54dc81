"""What may be done to registered models and their tags, by any surface (the MLflow API, the REST API, the admin);
modelregistry.versions and modelregistry.aliases hold the rules of their versions and aliases.

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
from common.db import validated_save
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    ALIAS_MAX_LENGTH,
    MODEL_NAME_TAKEN,
    MODEL_TAG_VALUE_MAX_LENGTH,
    NAME_FORBIDDEN_CHARACTERS,
    ModelStage,
    ModelVersion,
    RegisteredModel,
    RegisteredModelTag,
)
from projects.models import LifecycleStage, Project
from tracking import services as tracking

# MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<number>` are the reserved words of model URIs.
ALIAS_PATTERN = re.compile(r"^[\w\-]*$")
ALIAS_RESERVED_VERSION = re.compile(r"^[vV]\d+$")
# Stages a version moves to with `archive_existing_versions`, which then archives the others there.


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


def validate_tag(key, value, *, max_length: int) -> None:
    tracking.validate_key(key, what="tag")
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(f"The value of tag {key!r} must be a string of at most {max_length} characters.")


def put_tag(tags, key, value, *, max_length: int) -> None:
    """Set the tag `key` among `tags` (a model's or a version's) to `value`, replacing the one there."""
    validate_tag(key, value, max_length=max_length)
    tags.update_or_create(key=key, defaults={"value": value})


def remove_tag(tags, key) -> None:
    """Remove the tag `key` from `tags`; one that is not there is no error, as in MLflow."""
    tracking.validate_key(key, what="tag")
    tags.filter(key=key).delete()


def writable_project(project: Project) -> None:
    if project.lifecycle_stage != LifecycleStage.ACTIVE:
        raise ValidationError(f"The experiment {project.pk} is deleted: models are registered in active ones only.")


def touch(model: RegisteredModel) -> None:
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
    writable_project(project)
    validate_name(name)
    tags = dict(tags or {})
    for key, value in tags.items():
        validate_tag(key, value, max_length=MODEL_TAG_VALUE_MAX_LENGTH)
    with transaction.atomic():
        save_named(model)
        RegisteredModelTag.objects.bulk_create(
            [RegisteredModelTag(registered_model=model, key=key, value=value) for key, value in tags.items()]
        )
    return model


def save_named(model: RegisteredModel, **save_kwargs) -> None:
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
        save_named(model, update_fields=["name", "updated_at"])
        ModelVersion.objects.filter(registered_model=model).update(updated_at=model.updated_at)
    return model


def registered_model_delete(*, actor: User, model: RegisteredModel) -> None:
    """Delete the model, its versions, tags and aliases (maintainers and up). The logged models and their files stay."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "destroy")
    model.delete()


def registered_model_set_tag(*, actor: User, model: RegisteredModel, key: str, value: str) -> None:
    REGISTERED_MODEL_ACCESS.require(actor, model, "tag")
    put_tag(model.tags, key, value, max_length=MODEL_TAG_VALUE_MAX_LENGTH)


def registered_model_delete_tag(*, actor: User, model: RegisteredModel, key: str) -> None:
    """Remove a tag; one that is not there is no error, as in MLflow."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "tag")
    remove_tag(model.tags, key)
