"""Runs (experiments) filtered and ordered by the search grammar (experiments.search.grammar), as MLflow's searches
of runs read it: attributes, parameters, tags, the latest values of metrics, and the kinds other apps register
(datasets)."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from experiments.models import ExperimentStatus, RunTag
from experiments.search.comparisons import (
    NUMERIC_LOOKUPS,
    keyed_string_q,
    number_of,
    numeric_q,
    string_q,
    time_of,
)
from experiments.search.grammar import (
    LIST_COMPARATORS,
    METRIC,
    PARAM,
    STRING_COMPARATORS,
    TAG,
    Clause,
    OrderTerm,
    parse_filter,
    parse_order_by,
)
from experiments.search.like import like_matches, like_parts
from tracking.models import LatestMetric

# Each metric a runs search compares or orders by is a join (LatestValues), and SQLite joins at most 64 tables.
SEARCH_MAX_METRICS = 50
# The status names the grammar compares with, by default the statuses' own; MLflow's API passes MLflow's.
OWN_STATUS_NAMES = {status: status for status in ExperimentStatus.values}

RUN_TIME_ATTRIBUTES = {"start_time": "started_at", "end_time": "finished_at", "created": "created_at"}
RUN_STRING_ATTRIBUTES = {"run_name": "name", "user_id": "owner__username", "run_id": "run_uuid"}
RUN_ORDER_ATTRIBUTES = {
    **RUN_TIME_ATTRIBUTES,
    **RUN_STRING_ATTRIBUTES,
    "status": "status",
    "experiment_id": "project_id",
}


def _param_text(key: str) -> Cast:
    # Cast to plain text, so that comparisons see the stored string and not a JSON value (SQLite would read the string
    # '0.01' compared with a parameter as the number 0.01).
    return Cast(KeyTextTransform(key, "parameters"), output_field=TextField())


class LatestValues:
    """The latest value of a metric of each run, NULL where a run lacks it (or its latest value is NaN): a join on the
    latest-values table per metric key that a search names, shared by its filters and its order.

    A join rather than a subquery per run: PostgreSQL would run that subquery once for every run matched, before the
    sort. The unique constraint on (run, key) keeps one row per
    run.
    """

    def __init__(self):
        self.relations: dict[str, str] = {}
        self.compared: set[str] = set()

    def of(self, queryset: QuerySet, key: str, *, compared: bool = False) -> tuple[QuerySet, str]:
        """`queryset` joined to metric `key`'s latest values, and the path to the value; `compared` when a filter
        compares the value, which keeps only the runs that have it."""
        if key not in self.relations:
            if len(self.relations) == SEARCH_MAX_METRICS:
                raise ValidationError(f"A search may compare and order by at most {SEARCH_MAX_METRICS} metrics.")
            self.relations[key] = f"_metric_{len(self.relations)}"
            only_key = Q(latest_metrics__key=key, latest_metrics__is_nan=False)
            queryset = queryset.alias(**{self.relations[key]: FilteredRelation("latest_metrics", condition=only_key)})
        if compared:
            self.compared.add(key)
        return queryset, f"{self.relations[key]}__value"

    def nulls_last(self, key: str) -> bool | None:
        """NULLS LAST for an order by metric `key`, so that runs without it come last; None (no NULLS clause) when a
        filter compares the value, since every run matched then has one.

        Without the clause PostgreSQL can read the runs in the order of the (key, value) index, descending as well, and
        stop at the end of the page. With NULLS LAST a descending order
        matches no index, and every run matched was joined and sorted first.
        """
        return None if key in self.compared else True


# Builders of conditions for the clause kinds whose tables stand on a floor above this app (datasets, in runinputs),
# registered by that app when it is ready: `kind -> build(clause) -> Q` over runs.
CLAUSE_KINDS: dict[str, Callable[[Clause], Q]] = {}


def register_clause_kind(kind: str, build: Callable[[Clause], Q]) -> None:
    CLAUSE_KINDS[kind] = build


def _run_clause(
    queryset: QuerySet, clause: Clause, index: int, metrics: LatestValues, status_names: dict[str, str]
) -> QuerySet:
    key = clause.key
    if clause.kind in CLAUSE_KINDS:
        return queryset.filter(CLAUSE_KINDS[clause.kind](clause))
    if clause.kind == METRIC:
        value = number_of(clause)
        if clause.comparator == "!=":
            # Runs that have the metric with another value; not the join, whose negation Django would not express so.
            latest = LatestMetric.objects.filter(experiment=OuterRef("pk"), key=key, is_nan=False)
            return queryset.filter(Exists(latest.exclude(value=value)))
        queryset, field = metrics.of(queryset, key, compared=True)
        return queryset.filter(**{f"{field}__{NUMERIC_LOOKUPS[clause.comparator]}": value})
    if clause.kind == PARAM:
        if clause.comparator == "IS NULL":
            return queryset.exclude(parameters__has_key=key)
        if clause.comparator == "IS NOT NULL":
            return queryset.filter(parameters__has_key=key)
        if clause.comparator in LIST_COMPARATORS:
            raise ValidationError(f"Invalid comparator {clause.comparator!r} for param {key!r}.")
        alias = f"_param_{index}"
        return queryset.alias(**{alias: _param_text(key)}).filter(string_q(alias, clause))
    if clause.kind == TAG:
        return queryset.filter(keyed_string_q(RunTag.objects.filter(experiment=OuterRef("pk"), key=key), clause))
    # Attributes.
    if key in RUN_TIME_ATTRIBUTES:
        return queryset.filter(numeric_q(RUN_TIME_ATTRIBUTES[key], clause, time_of(clause)))
    if key in RUN_STRING_ATTRIBUTES:
        if clause.comparator in LIST_COMPARATORS and key != "run_id":
            raise ValidationError(f"Only run_id is compared with {clause.comparator}.")
        return queryset.filter(string_q(RUN_STRING_ATTRIBUTES[key], clause))
    if key == "status":
        if clause.comparator not in STRING_COMPARATORS or not isinstance(clause.value, str):
            raise ValidationError("The status is compared with =, !=, LIKE or ILIKE and a quoted string.")
        if "LIKE" in clause.comparator:
            parts = like_parts(clause.value)
            case_sensitive = clause.comparator == "LIKE"
            matching = [
                ours for ours, name in status_names.items() if like_matches(parts, name, case_sensitive=case_sensitive)
            ]
        else:
            matching = [ours for ours, name in status_names.items() if name == clause.value]
        if clause.comparator == "!=":
            return queryset.exclude(status__in=matching)
        return queryset.filter(status__in=matching)
    raise ValidationError(f"Invalid attribute key {key!r} for searching runs.")


def _run_order(queryset: QuerySet, terms: list[OrderTerm], metrics: LatestValues) -> QuerySet:
    ordering = []
    for index, term in enumerate(terms):
        alias = f"_order_{index}"
        # Runs that lack the value come last in both directions, as in MLflow.
        nulls_last = True
        if term.kind == METRIC:
            queryset, alias = metrics.of(queryset, term.key)
            nulls_last = metrics.nulls_last(term.key)
        elif term.kind == PARAM:
            queryset = queryset.alias(**{alias: _param_text(term.key)})
        elif term.kind == TAG:
            tag = RunTag.objects.filter(experiment=OuterRef("pk"), key=term.key)
            queryset = queryset.alias(**{alias: Subquery(tag.values("value")[:1])})
        elif term.key in RUN_ORDER_ATTRIBUTES:
            alias = RUN_ORDER_ATTRIBUTES[term.key]
        else:
            raise ValidationError(f"Invalid order_by key {term.key!r}.")
        ordering.append(F(alias).asc(nulls_last=nulls_last) if term.ascending else F(alias).desc(nulls_last=nulls_last))
    if not terms:
        ordering.append(F("started_at").desc(nulls_last=True))
    ordering.append(F("run_uuid").asc())
    return queryset.order_by(*ordering)


def _filtered(
    queryset: QuerySet, filter_string: str | None, metrics: LatestValues, status_names: dict[str, str] | None
) -> QuerySet:
    for index, clause in enumerate(parse_filter(filter_string)):
        queryset = _run_clause(queryset, clause, index, metrics, status_names or OWN_STATUS_NAMES)
    return queryset


def runs_matching(
    queryset: QuerySet, *, filter_string: str | None, order_by: list | None, status_names: dict[str, str] | None = None
) -> QuerySet:
    """`queryset` (of experiments) narrowed by `filter_string` and ordered by `order_by` terms (by default the latest
    started first), then by run id; `status_names` maps each status to the name a filter compares with."""
    metrics = LatestValues()
    queryset = _filtered(queryset, filter_string, metrics, status_names)
    return _run_order(queryset, parse_order_by(order_by), metrics)


def runs_filtered(
    queryset: QuerySet, *, filter_string: str | None, status_names: dict[str, str] | None = None
) -> QuerySet:
    """`queryset` (of experiments) narrowed by `filter_string`, its order left to the caller (the web UI's table of
    runs, which orders and pages by its own columns). A filter the grammar refuses raises ValidationError."""
    return _filtered(queryset, filter_string, LatestValues(), status_names)
