"""MLflow's searches of runs and experiments as the protocol states them, translated to the experiments domain's
search (experiments.search, experiments.selectors): which experiment ids, which view type, which page."""

from django.db.models import F, OuterRef, Q, QuerySet

from accounts.models import User
from common.sql import RowsOf, rows_of
from experiments import selectors
from experiments.display import tag_values
from experiments.models import Experiment, RunTag
from experiments.search.comparisons import keyed_string_q, numeric_q, string_q, time_of
from experiments.search.grammar import ATTRIBUTE, STRING_COMPARATORS, TAG, Clause, parse_filter, parse_order_by
from experiments.search.like import like_matches, like_parts
from mlflow_api import entities
from mlflow_api.entities import TO_MLFLOW_STATUS
from mlflow_api.errors import MlflowError
from mlflow_api.lookups import default_project, experiment_number, unsaved_default_project
from mlflow_api.paging import page, view_type_stages
from projects.models import LifecycleStage, Project, ProjectTag
from tracking.models import LatestMetric, number_to_json

RUNS_MAX_RESULTS = 50_000
EXPERIMENTS_MAX_RESULTS = 50_000

# ---------------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------------


def runs_search(
    *, user: User, experiment_ids: list, filter_string, run_view_type, order_by: list, max_results: int, page_token
) -> tuple[list[Experiment], str | None]:
    if not 1 <= max_results <= RUNS_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {RUNS_MAX_RESULTS}.")
    project_ids = set()
    for experiment_id in experiment_ids:
        experiment_id = str(experiment_id)
        if experiment_id == "0":
            default = default_project(user=user, create=False)
            if default is not None:
                project_ids.add(default.pk)
        elif (number := experiment_number(experiment_id)) is not None:
            project_ids.add(number)
    queryset = selectors.run_search(
        user=user,
        project_ids=project_ids,
        lifecycle_stages=view_type_stages(run_view_type),
        filter_string=filter_string,
        order_by=order_by,
        status_names=TO_MLFLOW_STATUS,
    )
    queryset = (
        queryset.select_related("owner")
        .only(*entities.RUN_FIELDS)
        .annotate(
            _metrics_json=RowsOf(LatestMetric, ("key", "value", "is_nan", "timestamp", "step"), floats=("value",)),
            _tags_json=RowsOf(RunTag, ("key", "value")),
        )
    )
    return page(queryset, max_results=max_results, page_token=page_token)


def run_data(run: Experiment) -> tuple[list, dict]:
    """A searched run's latest metrics, as MLflow shows them, and its tags, from the JSON runs_search reads with it.

    In the search's own query rather than in two more, each with the page's ids (up to 50,000) to bind. Plain dicts,
    not model instances: those for each metric and tag would cost more than the search itself.
    """
    shown = run.__dict__
    metrics, tags = shown.pop("_metrics_json", None), shown.pop("_tags_json", None)
    return (
        [
            {"key": key, "value": number_to_json(float(value), is_nan=is_nan), "timestamp": ts, "step": step}
            for key, value, is_nan, ts, step in rows_of(metrics)
        ],
        tag_values(tags),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------------------------------

EXPERIMENT_TIME_ATTRIBUTES = {"creation_time": "created_at", "last_update_time": "updated_at"}
EXPERIMENT_ORDER_ATTRIBUTES = {**EXPERIMENT_TIME_ATTRIBUTES, "name": "name", "experiment_id": "pk"}


def _experiment_clause(queryset: QuerySet, clause: Clause) -> QuerySet:
    if clause.kind == TAG:
        tags = ProjectTag.objects.filter(project=OuterRef("pk"), key=clause.key)
        return queryset.filter(keyed_string_q(tags, clause))
    if clause.kind != ATTRIBUTE:
        raise MlflowError(f"Experiments are searched by name, tags and times, not by {clause.kind}s.")
    if clause.key == "name":
        if clause.comparator not in STRING_COMPARATORS:
            raise MlflowError(f"Invalid comparator {clause.comparator!r} for the name.")
        return queryset.filter(string_q("name", clause))
    if clause.key in EXPERIMENT_TIME_ATTRIBUTES:
        return queryset.filter(numeric_q(EXPERIMENT_TIME_ATTRIBUTES[clause.key], clause, time_of(clause)))
    raise MlflowError(f"Invalid attribute key {clause.key!r} for searching experiments.")


def _shows_unsaved(project: Project, clauses: list[Clause]) -> bool:
    """Whether the caller's unsaved default project (lookups.unsaved_default_project) meets every clause of a filter,
    as _experiment_clause would judge it were it saved: it has no tags, its name and its times."""
    for clause in clauses:
        if clause.kind == TAG:
            matched = clause.comparator == "IS NULL"
        elif clause.key == "name":
            matched = _name_matches(project.name, clause)
        else:
            moment = getattr(project, EXPERIMENT_TIME_ATTRIBUTES[clause.key])
            matched = _compare(moment, clause.comparator, time_of(clause))
        if not matched:
            return False
    return True


def _name_matches(name: str, clause: Clause) -> bool:
    if clause.comparator in ("LIKE", "ILIKE"):
        return like_matches(like_parts(clause.value), name, case_sensitive=clause.comparator == "LIKE")
    return (name == clause.value) == (clause.comparator == "=")


def _compare(left, comparator: str, right) -> bool:
    return {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[comparator]


def _rows_before(project: Project, terms: list[tuple[str, bool]]) -> Q:
    """The rows an order of `terms` (field, ascending) puts before the unsaved `project`, whose id reads as 0: those
    before it on the first field that differs, and those equal on every field (the last term, the id descending, puts
    every saved one first)."""
    before = Q()
    equal = Q()
    for field, ascending in terms:
        value = 0 if field == "pk" else getattr(project, field)
        before |= equal & Q(**{f"{field}__{'lt' if ascending else 'gt'}": value})
        equal &= Q(**{field: value})
    return before | equal


def experiments_search(
    *, user: User, filter_string, view_type, order_by: list, max_results: int, page_token
) -> tuple[list[Project], str | None]:
    """The projects the caller may see, as MLflow's experiments; the caller's default project, experiment "0", among
    them before it is made (unsaved), as MLflow's server always shows its Default experiment."""
    if not 1 <= max_results <= EXPERIMENTS_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {EXPERIMENTS_MAX_RESULTS}.")
    stages = view_type_stages(view_type)
    queryset = Project.objects.where_visible_to(user)
    if stages is not None:
        queryset = queryset.filter(lifecycle_stage__in=stages)
    clauses = parse_filter(filter_string)
    for clause in clauses:
        queryset = _experiment_clause(queryset, clause)
    terms = []
    for term in parse_order_by(order_by):
        if term.kind != ATTRIBUTE or term.key not in EXPERIMENT_ORDER_ATTRIBUTES:
            raise MlflowError(f"Invalid order_by key {term.key!r} for experiments.")
        terms.append((EXPERIMENT_ORDER_ATTRIBUTES[term.key], term.ascending))
    terms = [*(terms or [("created_at", False)]), ("pk", False)]
    ordering = [F(field).asc() if ascending else F(field).desc() for field, ascending in terms]
    queryset = queryset.order_by(*ordering).prefetch_related("key_tags")
    extra = None
    if (stages is None or LifecycleStage.ACTIVE in stages) and default_project(user=user, create=False) is None:
        unsaved = unsaved_default_project(user=user)
        if _shows_unsaved(unsaved, clauses):
            extra = (unsaved, lambda: queryset.filter(_rows_before(unsaved, terms)).count())
    return page(queryset, max_results=max_results, page_token=page_token, extra=extra)
