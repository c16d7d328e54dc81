"""A logged model read by its id with the caller's role, as a statement prepared once (see common.prepared), for
callers who are not superusers: MLflow's client reads the model, then downloads each of its files, and every one of
those requests looks the model up. Building its SQL anew each time would cost more than running it."""

from django.db import models
from django.utils import timezone

from common.prepared import Late, Prepared
from loggedmodels.models import LoggedModel
from projects.models import LifecycleStage

USER = Late("user", models.BigIntegerField())
NOW = Late("now", models.DateTimeField())
MODEL_ID = Late("model_id", models.CharField())


def _by_id(**active):
    return LoggedModel.objects.with_member_role(USER, now=NOW).filter(model_id=MODEL_ID, **active).order_by("pk")[:1]


ANY_BY_ID = Prepared(_by_id)
ACTIVE_BY_ID = Prepared(lambda: _by_id(lifecycle_stage=LifecycleStage.ACTIVE))


def model_with_role(user, model_id: str, *, allow_deleted: bool) -> LoggedModel | None:
    """The model `model_id` with `user`'s `role` in its project (None: no access), or None if there is none."""
    statement = ANY_BY_ID if allow_deleted else ACTIVE_BY_ID
    found = statement.instances({"user": user.pk, "now": timezone.now(), "model_id": model_id})
    return found[0] if found else None
