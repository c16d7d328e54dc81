"""The reads of experiments that other code uses: the REST API, the MLflow API, the admin and the UI read through here.

Each selector decides how its read is done: a statement prepared once (experiments.statements) for the reads most
requests make, or the ORM where a superuser (who sees every row) or a list's filters need a query of their own. The
two forms answer the same rows (the statements are built from the same QuerySet methods, and tested against them).
"""

from collections.abc import Callable, Iterable

from django.db.models import QuerySet

from experiments import statements
from experiments.models import Experiment
from experiments.search.runs import runs_matching


def experiment_list(*, user, narrow: Callable[[QuerySet], QuerySet], plain: bool) -> Iterable[Experiment]:
    """The experiments `user` may see, with what a list shows. A `plain` list (no filter, the default order) reads the
    prepared statement; otherwise `narrow` (the list's filters and ordering) applies to the ORM's query."""
    if plain and not user.is_superuser:
        return statements.visible_experiments(user)
    return narrow(Experiment.objects.for_display().where_visible_to(user))


def experiment_get(*, user, pk: int, for_write: bool = False) -> Experiment | None:
    """Experiment `pk` with what a read shows and `user`'s role on it (`access_role`, None: no access), or None, among
    all rows (so that one the caller may not see is told apart from one that does not exist). `for_write`: an
    instance to change and save."""
    if for_write or user.is_superuser:
        return Experiment.objects.for_display().with_access(user).filter(pk=pk).first()
    return statements.experiment_with_access(user, pk)


def run_get(*, user, run_id: str, shown: bool = False) -> Experiment | None:
    """The experiment whose MLflow run id is `run_id`, with `user`'s role on it (`access_role`), or None; `shown` reads
    with it what a run's answer shows (its owner, latest metrics and tags), else its own columns only (for writes)."""
    if shown or user.is_superuser:
        runs = Experiment.objects.with_access(user)
        if shown:
            runs = runs.select_related("owner").prefetch_related("latest_metrics", "run_tags")
        return runs.filter(run_uuid=run_id).first()
    return statements.run_with_access(user, run_id)


def run_search(
    *,
    user,
    project_ids: Iterable[int],
    lifecycle_stages: list[str] | None,
    filter_string: str | None,
    order_by: list | None,
    status_names: dict[str, str] | None = None,
) -> QuerySet[Experiment]:
    """The experiments (runs) `user` may see in `project_ids`, at one of `lifecycle_stages` (None: any), narrowed by a
    filter and ordered by `order_by` terms of the search grammar (experiments.search). The caller's role is not part
    of a run's answer: only which runs they may see."""
    runs = Experiment.objects.where_visible_to(user).filter(project_id__in=project_ids)
    if lifecycle_stages is not None:
        runs = runs.filter(lifecycle_stage__in=lifecycle_stages)
    return runs_matching(runs, filter_string=filter_string, order_by=order_by, status_names=status_names)
