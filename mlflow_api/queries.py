"""MLflow's searches of runs and experiments as the protocol states them, translated to the experiments domain's
search (experiments.search, experiments.selectors): which experiment ids, which view type, which page."""

from django.db.models import F, OuterRef, QuerySet

from accounts.models import User
from common.sql import RowsOf, rows_of
from experiments import selectors
from experiments.display import tag_values
from experiments.models import Experiment, RunTag
from experiments.search.comparisons import keyed_string_q, numeric_q, string_q, time_of
from experiments.search.grammar import ATTRIBUTE, STRING_COMPARATORS, TAG, Clause, parse_filter, parse_order_by
from mlflow_api import entities
from mlflow_api.entities import TO_MLFLOW_STATUS
from mlflow_api.errors import MlflowError
from mlflow_api.lookups import default_project, experiment_number
from mlflow_api.paging import by_view_type, page, view_type_stages
from projects.models import Project, ProjectTag
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


def experiments_search(
    *, user: User, filter_string, view_type, order_by: list, max_results: int, page_token
) -> tuple[list[Project], str | None]:
    if not 1 <= max_results <= EXPERIMENTS_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {EXPERIMENTS_MAX_RESULTS}.")
    queryset = by_view_type(Project.objects.where_visible_to(user), view_type)
    for clause in parse_filter(filter_string):
        queryset = _experiment_clause(queryset, clause)
    ordering = []
    for term in parse_order_by(order_by):
        if term.kind != ATTRIBUTE or term.key not in EXPERIMENT_ORDER_ATTRIBUTES:
            raise MlflowError(f"Invalid order_by key {term.key!r} for experiments.")
        field = F(EXPERIMENT_ORDER_ATTRIBUTES[term.key])
        ordering.append(field.asc() if term.ascending else field.desc())
    if not ordering:
        ordering.append(F("created_at").desc())
    ordering.append(F("pk").desc())
    queryset = queryset.order_by(*ordering).prefetch_related("key_tags")
    return page(queryset, max_results=max_results, page_token=page_token)
