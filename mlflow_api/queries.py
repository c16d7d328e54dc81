"""MLflow's searches over what the caller may read: runs (experiments) and experiments (projects)."""

import base64
import binascii
import json
import math

from django.db.models import (
    BooleanField,
    Exists,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from accounts.models import User
from common.numbers import INT64_MAX
from common.sql import RowsOf, rows_of
from experiments.display import tag_values
from experiments.models import Experiment, RunTag
from mlflow_api import entities, search
from mlflow_api.entities import TO_MLFLOW_STATUS, from_ms
from mlflow_api.errors import MlflowError
from mlflow_api.search import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, Clause
from mlflow_api.services import default_project
from projects.models import LifecycleStage, Project, ProjectTag
from runinputs.models import CONTEXT_TAG, DatasetInput
from tracking.models import LatestMetric, number_to_json

RUNS_MAX_RESULTS = 50_000
EXPERIMENTS_MAX_RESULTS = 50_000
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}
NUMERIC_LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
# Each metric a runs search compares or orders by is a join (LatestValues), and SQLite joins at most 64 tables.
SEARCH_MAX_METRICS = 50


# ---------------------------------------------------------------------------------------------------------------------
# Paging and view types
# ---------------------------------------------------------------------------------------------------------------------


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise MlflowError("Invalid page token.") from exc
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise MlflowError("Invalid page token.")
    return offset


def page(queryset: QuerySet, *, max_results: int, page_token) -> tuple[list, str | None]:
    offset = decode_page_token(page_token)
    # The page's end, one row past it included, must be a 64-bit integer, as the databases read LIMIT and OFFSET.
    if offset + max_results + 1 > INT64_MAX:
        raise MlflowError("Invalid page token.")
    rows = list(queryset[offset : offset + max_results + 1])
    if len(rows) > max_results:
        return rows[:max_results], encode_page_token(offset + max_results)
    return rows, None


def by_view_type(queryset: QuerySet, view_type) -> QuerySet:
    if view_type in (None, ""):
        view_type = "ACTIVE_ONLY"
    number = VIEW_TYPES.get(view_type, view_type)
    if number == 1:
        return queryset.filter(lifecycle_stage=LifecycleStage.ACTIVE)
    if number == 2:
        return queryset.filter(lifecycle_stage=LifecycleStage.DELETED)
    if number == 3:
        return queryset
    raise MlflowError(f"Invalid view type {view_type!r}: ACTIVE_ONLY, DELETED_ONLY or ALL.")


# ---------------------------------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------------------------------


ANY, ONE = "%", "_"
LIKE_ESCAPE = "\\"


def like_parts(pattern: str) -> list[tuple[bool, str]]:
    """A LIKE pattern as (wildcard, character) pairs: `%` (any run of characters) and `_` (one character) are
    wildcards unless a backslash escapes them, as PostgreSQL's LIKE reads them. A backslash makes the next character
    literal (a trailing one stands for itself), and a run of `%` is one."""
    parts = []
    characters = iter(pattern)
    for character in characters:
        if character == LIKE_ESCAPE:
            parts.append((False, next(characters, LIKE_ESCAPE)))
        elif character == ANY and parts and parts[-1] == (True, ANY):
            continue
        else:
            parts.append((character in (ANY, ONE), character))
    return parts


def _like_text(parts: list[tuple[bool, str]]) -> str:
    """The pattern for `LIKE ... ESCAPE '\\'`, every literal wildcard and backslash escaped."""
    return "".join(c if wildcard or c not in (ANY, ONE, LIKE_ESCAPE) else LIKE_ESCAPE + c for wildcard, c in parts)


def _glob_text(parts: list[tuple[bool, str]]) -> str:
    """The pattern for SQLite's GLOB, which has no escape character: a literal `*`, `?` or `[` in brackets."""
    glob = {ANY: "*", ONE: "?"}
    return "".join(glob[c] if wildcard else f"[{c}]" if c in "*?[" else c for wildcard, c in parts)


def like_matches(parts: list[tuple[bool, str]], text: str, *, case_sensitive: bool) -> bool:
    """Whether `text` matches the pattern, as the database's LIKE (or ILIKE) does, in time proportional to the
    lengths' product at worst: after a mismatch only the latest `%` is retried, one character further."""
    if not case_sensitive:
        parts = [(wildcard, c.lower()) for wildcard, c in parts]
        text = text.lower()
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(parts) and parts[p] == (True, ANY):
            star, mark = p, t
            p += 1
        elif p < len(parts) and (parts[p] == (True, ONE) or parts[p][1] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    return all(part == (True, ANY) for part in parts[p:])


class Like(Func):
    """Whether `expression` matches a LIKE pattern (like_parts): case-sensitive, or not with `case_sensitive=False`
    (MLflow's ILIKE).

    The databases' own LIKE, whose matching never backtracks over more than one `%` (a regular expression built from
    the pattern did, in time exponential in its number of `%`). SQLite's LIKE ignores the case of ASCII letters, so a
    case-sensitive match there is GLOB; its ILIKE, as MLflow's on SQLite, folds ASCII letters only.
    """

    output_field = BooleanField()

    def __init__(self, expression, pattern: str, *, case_sensitive: bool):
        super().__init__(expression)
        self.parts = like_parts(pattern)
        self.case_sensitive = case_sensitive

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        operator = "LIKE" if self.case_sensitive else "ILIKE"
        return f"{sql} {operator} %s ESCAPE '{LIKE_ESCAPE}'", (*params, _like_text(self.parts))

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.case_sensitive:
            return f"{sql} GLOB %s", (*params, _glob_text(self.parts))
        return f"{sql} LIKE %s ESCAPE '{LIKE_ESCAPE}'", (*params, _like_text(self.parts))


def _string_q(field: str, clause: Clause) -> Q:
    """A comparison of a text column (or expression alias) with a string, MLflow's string comparators."""
    value = clause.value
    comparator = clause.comparator
    if comparator in search.LIST_COMPARATORS:
        q = Q(**{f"{field}__in": list(value)})
        return q if comparator == "IN" else ~q
    if not isinstance(value, str):
        raise MlflowError(f"The value of {clause.kind} {clause.key!r} must be a quoted string.")
    if comparator == "=":
        return Q(**{field: value})
    if comparator == "!=":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{field: value})
    if comparator in ("LIKE", "ILIKE"):
        return Q(Like(F(field), value, case_sensitive=comparator == "LIKE"))
    raise MlflowError(f"Invalid comparator {comparator!r} for {clause.kind} {clause.key!r}.")


def _numeric(clause: Clause) -> float:
    if clause.comparator not in search.NUMERIC_COMPARATORS or not isinstance(clause.value, float):
        raise MlflowError(
            f"{clause.kind} {clause.key!r} is compared with one of {', '.join(sorted(search.NUMERIC_COMPARATORS))} "
            "and a number."
        )
    return clause.value


def _time(clause: Clause):
    """A time attribute's value, milliseconds since the epoch, as a datetime."""
    value = _numeric(clause)
    if not math.isfinite(value):
        raise MlflowError(f"The {clause.key} {value} is not a time in milliseconds since the epoch.")
    return from_ms(int(value), name=clause.key)


def _numeric_q(field: str, clause: Clause, value) -> Q:
    if clause.comparator == "!=":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{field: value})
    return Q(**{f"{field}__{NUMERIC_LOOKUPS[clause.comparator]}": value})


def _keyed_string_q(queryset_of_values: QuerySet, clause: Clause) -> Q:
    """A string comparison on a key/value table (tags): runs having the key with a matching value."""
    if clause.comparator == "IS NULL":
        return ~Exists(queryset_of_values)
    if clause.comparator == "IS NOT NULL":
        return Exists(queryset_of_values)
    if clause.comparator in search.LIST_COMPARATORS:
        raise MlflowError(f"Invalid comparator {clause.comparator!r} for {clause.kind} {clause.key!r}.")
    return Exists(queryset_of_values.filter(_string_q("value", clause)))


# ---------------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------------

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
                raise MlflowError(f"A search may compare and order by at most {SEARCH_MAX_METRICS} metrics.")
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


DATASET_FIELDS = {"name": "dataset__name", "digest": "dataset__digest", "context": "_context"}


def _dataset_q(clause: Clause) -> Q:
    """Runs with a dataset input whose name, digest or context (its `mlflow.data.context` tag) matches."""
    if clause.key not in DATASET_FIELDS:
        raise MlflowError(f"Invalid dataset key {clause.key!r}: one of {', '.join(DATASET_FIELDS)}.")
    if clause.comparator not in search.STRING_COMPARATORS | search.LIST_COMPARATORS:
        raise MlflowError(f"Invalid comparator {clause.comparator!r} for dataset {clause.key!r}.")
    inputs = DatasetInput.objects.filter(run=OuterRef("pk")).alias(
        _context=Cast(KeyTextTransform(CONTEXT_TAG, "tags"), output_field=TextField())
    )
    return Exists(inputs.filter(_string_q(DATASET_FIELDS[clause.key], clause)))


def _run_clause(queryset: QuerySet, clause: Clause, index: int, metrics: LatestValues) -> QuerySet:
    key = clause.key
    if clause.kind == DATASET:
        return queryset.filter(_dataset_q(clause))
    if clause.kind == METRIC:
        value = _numeric(clause)
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
        if clause.comparator in search.LIST_COMPARATORS:
            raise MlflowError(f"Invalid comparator {clause.comparator!r} for param {key!r}.")
        alias = f"_param_{index}"
        return queryset.alias(**{alias: _param_text(key)}).filter(_string_q(alias, clause))
    if clause.kind == TAG:
        return queryset.filter(_keyed_string_q(RunTag.objects.filter(experiment=OuterRef("pk"), key=key), clause))
    # Attributes.
    if key in RUN_TIME_ATTRIBUTES:
        return queryset.filter(_numeric_q(RUN_TIME_ATTRIBUTES[key], clause, _time(clause)))
    if key in RUN_STRING_ATTRIBUTES:
        if clause.comparator in search.LIST_COMPARATORS and key != "run_id":
            raise MlflowError(f"Only run_id is compared with {clause.comparator}.")
        return queryset.filter(_string_q(RUN_STRING_ATTRIBUTES[key], clause))
    if key == "status":
        if clause.comparator not in search.STRING_COMPARATORS or not isinstance(clause.value, str):
            raise MlflowError("The status is compared with =, !=, LIKE or ILIKE and a quoted string.")
        if "LIKE" in clause.comparator:
            parts = like_parts(clause.value)
            case_sensitive = clause.comparator == "LIKE"
            matching = [
                ours
                for ours, name in TO_MLFLOW_STATUS.items()
                if like_matches(parts, name, case_sensitive=case_sensitive)
            ]
        else:
            matching = [ours for ours, name in TO_MLFLOW_STATUS.items() if name == clause.value]
        if clause.comparator == "!=":
            return queryset.exclude(status__in=matching)
        return queryset.filter(status__in=matching)
    raise MlflowError(f"Invalid attribute key {key!r} for searching runs.")


def _run_order(queryset: QuerySet, terms: list[search.OrderTerm], metrics: LatestValues) -> QuerySet:
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
            raise MlflowError(f"Invalid order_by key {term.key!r}.")
        ordering.append(F(alias).asc(nulls_last=nulls_last) if term.ascending else F(alias).desc(nulls_last=nulls_last))
    if not terms:
        ordering.append(F("started_at").desc(nulls_last=True))
    ordering.append(F("run_uuid").asc())
    return queryset.order_by(*ordering)


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
        elif experiment_id.isascii() and experiment_id.isdigit() and len(experiment_id) < 19:
            project_ids.add(int(experiment_id))
    # The caller's role is not part of a run's answer: only which runs they may see.
    queryset = Experiment.objects.where_visible_to(user).filter(project_id__in=project_ids)
    queryset = by_view_type(queryset, run_view_type)
    metrics = LatestValues()
    for index, clause in enumerate(search.parse_filter(filter_string)):
        queryset = _run_clause(queryset, clause, index, metrics)
    queryset = _run_order(queryset, search.parse_order_by(order_by), metrics)
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
        return queryset.filter(_keyed_string_q(tags, clause))
    if clause.kind != ATTRIBUTE:
        raise MlflowError(f"Experiments are searched by name, tags and times, not by {clause.kind}s.")
    if clause.key == "name":
        if clause.comparator not in search.STRING_COMPARATORS:
            raise MlflowError(f"Invalid comparator {clause.comparator!r} for the name.")
        return queryset.filter(_string_q("name", clause))
    if clause.key in EXPERIMENT_TIME_ATTRIBUTES:
        return queryset.filter(_numeric_q(EXPERIMENT_TIME_ATTRIBUTES[clause.key], clause, _time(clause)))
    raise MlflowError(f"Invalid attribute key {clause.key!r} for searching experiments.")


def experiments_search(
    *, user: User, filter_string, view_type, order_by: list, max_results: int, page_token
) -> tuple[list[Project], str | None]:
    if not 1 <= max_results <= EXPERIMENTS_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {EXPERIMENTS_MAX_RESULTS}.")
    queryset = by_view_type(Project.objects.where_visible_to(user), view_type)
    for clause in search.parse_filter(filter_string):
        queryset = _experiment_clause(queryset, clause)
    ordering = []
    for term in search.parse_order_by(order_by):
        if term.kind != ATTRIBUTE or term.key not in EXPERIMENT_ORDER_ATTRIBUTES:
            raise MlflowError(f"Invalid order_by key {term.key!r} for experiments.")
        field = F(EXPERIMENT_ORDER_ATTRIBUTES[term.key])
        ordering.append(field.asc() if term.ascending else field.desc())
    if not ordering:
        ordering.append(F("created_at").desc())
    ordering.append(F("pk").desc())
    queryset = queryset.order_by(*ordering).prefetch_related("key_tags")
    return page(queryset, max_results=max_results, page_token=page_token)
