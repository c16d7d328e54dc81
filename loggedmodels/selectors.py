"""Reads of logged models that other code uses."""

from django.db.models import QuerySet

from accounts.models import User
from loggedmodels import statements
from loggedmodels.models import LoggedModel, LoggedModelInput, LoggedModelOutput, LoggedModelQuerySet
from projects.models import LifecycleStage, role_from_memberships


def logged_model_get(*, user: User, model_id: str, allow_deleted: bool = False) -> LoggedModel | None:
    """The model of this id annotated with the caller's `role` in its project (None: no access), looked up among all
    models so that the access check can answer 403 rather than 404; None if there is none (or it is deleted). Its
    `source_run` is read when it is asked for."""
    if role_from_memberships(user):
        return statements.model_with_role(user, model_id, allow_deleted=allow_deleted)
    models = LoggedModel.objects.with_role(user)
    if not allow_deleted:
        models = models.filter(lifecycle_stage=LifecycleStage.ACTIVE)
    return models.filter(model_id=model_id).first()


def logged_model_list(*, user: User, project_ids: list[int]) -> LoggedModelQuerySet:
    """The active models of these projects that `user` may see."""
    return (
        LoggedModel.objects.visible_to(user)
        .filter(project_id__in=project_ids, lifecycle_stage=LifecycleStage.ACTIVE)
        .select_related("source_run")
    )


def experiment_outputs(*, experiment_id: int) -> QuerySet[LoggedModelOutput]:
    """The models one experiment (run) recorded as its outputs, with the models, in the order recorded; deleted models
    left out."""
    return (
        LoggedModelOutput.objects.filter(run_id=experiment_id, model__lifecycle_stage=LifecycleStage.ACTIVE)
        .select_related("model__source_run")
        .order_by("pk")
    )


def run_outputs(*, run_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """The output models (id, step) of each of these runs, deleted models left out."""
    outputs: dict[int, list[tuple[str, int]]] = {}
    rows = (
        LoggedModelOutput.objects.filter(run_id__in=run_ids, model__lifecycle_stage=LifecycleStage.ACTIVE)
        .order_by("pk")
        .values_list("run_id", "model__model_id", "step")
    )
    for run_id, model_id, step in rows:
        outputs.setdefault(run_id, []).append((model_id, step))
    return outputs


def run_model_inputs(*, run_ids: list[int]) -> dict[int, list[str]]:
    """The ids of the input models of each of these runs, deleted models left out."""
    inputs: dict[int, list[str]] = {}
    rows = (
        LoggedModelInput.objects.filter(run_id__in=run_ids, model__lifecycle_stage=LifecycleStage.ACTIVE)
        .order_by("pk")
        .values_list("run_id", "model__model_id")
    )
    for run_id, model_id in rows:
        inputs.setdefault(run_id, []).append(model_id)
    return inputs
