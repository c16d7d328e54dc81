"""The reads of experiments that other code uses: the REST API, the MLflow API, the admin and the UI read through here.

Each selector decides how its read is done: a statement prepared once (experiments.statements) for the reads most
requests make, or the ORM where a superuser (who sees every row) or a list's filters need a query of their own. The
two forms answer the same rows (the statements are built from the same QuerySet methods, and tested against them).
"""

from collections.abc import Callable, Iterable

from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from experiments import statements
from experiments.models import Experiment
from experiments.search.runs import runs_filtered, runs_matching
from projects.models import LifecycleStage
from tracking.models import LatestMetric


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


def latest_metric_value(key: str) -> Subquery:
    """An experiment's latest value of metric `key`, None when it has none or it is NaN (so that NaN sorts with the
    missing): a subquery per row on the latest metrics' (experiment, key) index."""
    latest = LatestMetric.objects.filter(experiment_id=OuterRef("pk"), key=key, is_nan=False)
    return Subquery(latest.values("value")[:1])


def parameter_text(key: str) -> Cast:
    """An experiment's parameter `key` as plain text, so that comparing values (a sort, a page's cursor) compares text
    rather than JSON; None when it has none."""
    return Cast(KeyTextTransform(key, "parameters"), output_field=TextField())


def run_table(
    *, project_id: int, metrics: list[str], params: list[str], filter_string: str = ""
) -> QuerySet[Experiment]:
    """The active experiments (runs) of project `project_id` that match `filter_string` (the search grammar,
    experiments.search; ValidationError for one it refuses), for a table of runs: with the owner, `duration`, and for
    each chosen metric key `metrics[i]` its latest value as `metric_<i>` (None when absent or NaN, so that NaN sorts
    with the missing) and `metric_<i>_nan` (true, false, or None when absent), and for each parameter key
    `params[i]` its value as text, `param_<i>`.

    Each value is a subquery per row, so one query reads a page whatever columns it shows; the caller orders and
    pages on these names. Access is the caller's: a project's viewers see all of its runs."""
    annotations = {"duration": ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())}
    for index, key in enumerate(metrics):
        annotations[f"metric_{index}"] = latest_metric_value(key)
        # One index lookup per row shown, as a scalar subquery: PostgreSQL ran an EXISTS as one scan of every value of
        # the key (a hashed subplan), which grows with the project.
        latest = LatestMetric.objects.filter(experiment_id=OuterRef("pk"), key=key)
        annotations[f"metric_{index}_nan"] = Subquery(latest.values("is_nan")[:1])
    for index, key in enumerate(params):
        annotations[f"param_{index}"] = parameter_text(key)
    runs = Experiment.objects.filter(project_id=project_id, lifecycle_stage=LifecycleStage.ACTIVE)
    if filter_string.strip():
        runs = runs_filtered(runs, filter_string=filter_string)
    return runs.select_related("owner").annotate(**annotations)


# The metric and parameter keys a table of runs offers are gathered from this many of the project's newest runs, so
# that offering them costs the same in a project of any size.
KEYS_FROM_RUNS = 500
# The most keys of each kind a table of runs offers.
COLUMN_KEYS_MAX = 200


def run_table_keys(*, project_id: int) -> tuple[list[str], list[str]]:
    """The metric keys and parameter keys that a table of project `project_id`'s runs may show, each sorted, from the
    latest metrics and the parameters of its KEYS_FROM_RUNS newest runs."""
    runs = Experiment.objects.filter(project_id=project_id, lifecycle_stage=LifecycleStage.ACTIVE).order_by("-id")
    newest = runs.values("pk")[:KEYS_FROM_RUNS]
    metric_keys = list(
        LatestMetric.objects.filter(experiment__in=newest)
        .order_by("key")
        .values_list("key", flat=True)
        .distinct()[:COLUMN_KEYS_MAX]
    )
    param_keys: set[str] = set()
    for parameters in runs.values_list("parameters", flat=True)[:KEYS_FROM_RUNS]:
        if isinstance(parameters, dict):
            param_keys.update(parameters)
    return metric_keys, sorted(param_keys)[:COLUMN_KEYS_MAX]


def run_list_in_project(*, project_id: int, run_ids: list[str]) -> list[Experiment]:
    """The active experiments of project `project_id` among the MLflow run ids `run_ids`, in that order, with their
    owner, latest metrics and tags (`results`, `run_tag_values`); ids of no such run are left out."""
    runs = (
        Experiment.objects.for_display()
        .filter(project_id=project_id, lifecycle_stage=LifecycleStage.ACTIVE, run_uuid__in=run_ids)
        .select_related("owner")
    )
    by_id = {run.run_uuid: run for run in runs}
    return [by_id[run_id] for run_id in dict.fromkeys(run_ids) if run_id in by_id]


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
