"""The registry's most frequent reads as statements prepared once (see common.prepared), for callers who are not
superusers: a model found by its bare name, as every call of MLflow's client that names a model starts, and the
version an alias points at, as `load_model("models:/<name>@<alias>")` asks. Building their SQL anew for each call
would cost more than running it. The rules stay in the QuerySet methods the statements are built from."""

from django.db import models
from django.utils import timezone

from common.prepared import Late, Prepared
from modelregistry.models import ModelVersion, RegisteredModel

USER = Late("user", models.BigIntegerField())
NOW = Late("now", models.DateTimeField())
NAME = Late("name", models.CharField())
MODEL = Late("model", models.BigIntegerField())
ALIAS = Late("alias", models.CharField())
# Models read for one name at most: more than one is already an ambiguous name.
NAMED_MAX = 10

MODELS_NAMED = Prepared(
    lambda: (
        RegisteredModel.objects.visible_to_member(USER, now=NOW).filter(name=NAME).order_by("project_id")[:NAMED_MAX]
    )
)
VERSION_BY_ALIAS = Prepared(
    lambda: ModelVersion.objects.filter(registered_model_id=MODEL, aliases__alias=ALIAS).order_by("pk")[:1]
)


def models_named(user, name: str) -> list[RegisteredModel]:
    """The models named `name` in the projects `user` (not a superuser) may see, with `role`, by project."""
    return MODELS_NAMED.instances({"user": user.pk, "now": timezone.now(), "name": name})


def version_by_alias(model_id: int, alias: str) -> ModelVersion | None:
    """The version of model `model_id` that `alias` points at, its own columns only, or None."""
    found = VERSION_BY_ALIAS.instances({"model": model_id, "alias": alias})
    return found[0] if found else None
