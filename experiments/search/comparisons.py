"""The comparisons of the search grammar (experiments.search.grammar) as query conditions: on text columns, numbers,
times and key/value tables, for runs and for whatever else a surface searches with the same grammar (projects, logged
models)."""

import math
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, Q, QuerySet

from experiments.search.grammar import LIST_COMPARATORS, NUMERIC_COMPARATORS, Clause
from experiments.search.like import Like

NUMERIC_LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


def string_q(field: str, clause: Clause) -> Q:
    """A comparison of a text column (or expression alias) with a string, MLflow's string comparators."""
    value = clause.value
    comparator = clause.comparator
    if comparator in LIST_COMPARATORS:
        q = Q(**{f"{field}__in": list(value)})
        return q if comparator == "IN" else ~q
    if not isinstance(value, str):
        raise ValidationError(f"The value of {clause.kind} {clause.key!r} must be a quoted string.")
    if comparator == "=":
        return Q(**{field: value})
    if comparator == "!=":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{field: value})
    if comparator in ("LIKE", "ILIKE"):
        return Q(Like(F(field), value, case_sensitive=comparator == "LIKE"))
    raise ValidationError(f"Invalid comparator {comparator!r} for {clause.kind} {clause.key!r}.")


def number_of(clause: Clause) -> float:
    if clause.comparator not in NUMERIC_COMPARATORS or not isinstance(clause.value, float):
        raise ValidationError(
            f"{clause.kind} {clause.key!r} is compared with one of {', '.join(sorted(NUMERIC_COMPARATORS))} "
            "and a number."
        )
    return clause.value


def time_of(clause: Clause):
    """A time attribute's value, milliseconds since the epoch, as a datetime."""
    value = number_of(clause)
    if not math.isfinite(value):
        raise ValidationError(f"The {clause.key} {value} is not a time in milliseconds since the epoch.")
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValidationError(f"The {clause.key} {int(value)} is not a time in milliseconds since the epoch.") from exc


def numeric_q(field: str, clause: Clause, value) -> Q:
    if clause.comparator == "!=":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{field: value})
    return Q(**{f"{field}__{NUMERIC_LOOKUPS[clause.comparator]}": value})


def keyed_string_q(queryset_of_values: QuerySet, clause: Clause) -> Q:
    """A string comparison on a key/value table (tags): runs having the key with a matching value."""
    if clause.comparator == "IS NULL":
        return ~Exists(queryset_of_values)
    if clause.comparator == "IS NOT NULL":
        return Exists(queryset_of_values)
    if clause.comparator in LIST_COMPARATORS:
        raise ValidationError(f"Invalid comparator {clause.comparator!r} for {clause.kind} {clause.key!r}.")
    return Exists(queryset_of_values.filter(string_q("value", clause)))
