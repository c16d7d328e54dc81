"""What may be done to a registered model's aliases, by any surface: point one at a version or remove it, by a
maintainer; every move is recorded (AliasChange), signalled (`alias_moved`) and mailed to the project's maintainers
through the queue."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.db import validated_save
from modelregistry import tasks
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    AliasChange,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
)

# MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<number>` are the reserved words of model URIs.
from modelregistry.services import validate_alias
from modelregistry.signals import alias_moved


def record_alias_change(
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


def _locked(model: RegisteredModel, alias: str) -> RegisteredModelAlias | None:
    """The alias row, locked until the transaction ends, so that two moves of one alias are recorded in turn."""
    return (
        RegisteredModelAlias.objects.select_for_update()
        .select_related("model_version")
        .filter(registered_model=model, alias=alias)
        .first()
    )


def alias_set(*, actor: User, model: RegisteredModel, alias: str, version: ModelVersion) -> RegisteredModelAlias:
    """Point `alias` at `version` (maintainers and up), recording who did it and when. Setting it where it already
    points changes nothing."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "alias")
    validate_alias(alias)
    if version.registered_model_id != model.pk:
        raise ValidationError(f"Version {version.version} is not a version of {model.name!r}.")
    with transaction.atomic():
        current = _locked(model, alias)
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
        record_alias_change(actor=actor, model=model, alias=alias, from_version=previous, to_version=version.version)
    return current


def alias_delete(*, actor: User, model: RegisteredModel, alias: str) -> None:
    """Remove `alias` (maintainers and up); one that is not there is no error, as in MLflow."""
    REGISTERED_MODEL_ACCESS.require(actor, model, "alias")
    if not isinstance(alias, str) or alias == "":
        raise ValidationError("Registered model alias name cannot be empty.")
    with transaction.atomic():
        current = _locked(model, alias)
        if current is None:
            return
        current.delete()
        record_alias_change(
            actor=actor, model=model, alias=alias, from_version=current.model_version.version, to_version=None
        )
