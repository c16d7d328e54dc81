"""The search grammar of runs, MLflow's: filters (`metrics.loss < 0.5 and params.lr = '0.01'`) and `order_by` terms.

Every surface that filters runs (MLflow's API, the web UI) reads the same grammar through here; an error is a
ValidationError, which each surface answers in its own shape. A small hand-written parser rather than sqlparse (which
MLflow uses): the grammar is a flat list of clauses joined by `and`, so a scanner of a few regular expressions covers
it exactly and reports errors in the client's own words.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "param", "tag", "attribute", "dataset"
# A search is one query, and each clause or order term adds to it (a comparison, a join or a subquery): past a few
# hundred, SQLite refuses the query, which would answer as an outage that MLflow's client retries for minutes.
FILTER_MAX_LENGTH = 10_000
FILTER_MAX_CLAUSES = 100
ORDER_BY_MAX_TERMS = 100
PREFIXES = {
    "metric": METRIC,
    "metrics": METRIC,
    "param": PARAM,
    "params": PARAM,
    "parameter": PARAM,
    "parameters": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}
NUMERIC_COMPARATORS = {"=", "!=", ">", ">=", "<", "<="}
STRING_COMPARATORS = {"=", "!=", "LIKE", "ILIKE"}
NULL_COMPARATORS = {"IS NULL", "IS NOT NULL"}
LIST_COMPARATORS = {"IN", "NOT IN"}

_SPACE = re.compile(r"\s*")
_IDENTIFIER = re.compile(
    r"""(?:(?P<prefix>[A-Za-z_]+)\.)?(?:`(?P<backticked>[^`]+)`|"(?P<quoted>[^"]+)"|(?P<bare>[\w.\-/:]+))"""
)
_COMPARATOR = re.compile(
    r"(?P<op>!=|>=|<=|=|>|<|(?i:not\s+in|in|ilike|like|is\s+not\s+null|is\s+null))(?![\w])", re.IGNORECASE
)
_STRING = re.compile(r"'(?P<single>(?:[^']|'')*)'|\"(?P<double>[^\"]*)\"")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_AND = re.compile(r"and\b", re.IGNORECASE)
_DIRECTION = re.compile(r"(asc|desc)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One comparison: `kind` (metric, param, tag, attribute), `key`, an upper-case comparator and a value (a float,
    a string, a tuple of strings for IN, or None for IS NULL)."""

    kind: str
    key: str
    comparator: str
    value: object


@dataclass(frozen=True)
class OrderTerm:
    kind: str
    key: str
    ascending: bool


def _invalid(message: str) -> ValidationError:
    return ValidationError(message)


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def take(self, pattern: re.Pattern):
        self.skip_space()
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match

    def rest(self) -> str:
        return self.text[self.pos : self.pos + 40]


def _identifier(scanner: _Scanner, *, default_kind: str) -> tuple[str, str]:
    match = scanner.take(_IDENTIFIER)
    if not match:
        raise _invalid(f"Invalid identifier at {scanner.rest()!r}.")
    prefix = match.group("prefix")
    key = match.group("backticked") or match.group("quoted") or match.group("bare")
    if prefix is None:
        return default_kind, key
    kind = PREFIXES.get(prefix.lower())
    if kind is None:
        raise _invalid(f"Invalid entity type {prefix!r}. Valid values are ['metric', 'parameter', 'tag', 'attribute'].")
    return kind, key


def _value(scanner: _Scanner, comparator: str):
    if comparator in NULL_COMPARATORS:
        return None
    if comparator in LIST_COMPARATORS:
        if not scanner.take(re.compile(r"\(")):
            raise _invalid(f"Expected a parenthesised list of strings after {comparator}.")
        values = []
        while True:
            match = scanner.take(_STRING)
            if not match:
                raise _invalid(f"Expected a quoted string in the list at {scanner.rest()!r}.")
            values.append(_string(match))
            if scanner.take(re.compile(r"\)")):
                return tuple(values)
            if not scanner.take(re.compile(",")):
                raise _invalid(f"Expected ',' or ')' at {scanner.rest()!r}.")
    match = scanner.take(_STRING)
    if match:
        return _string(match)
    match = scanner.take(_NUMBER)
    if match:
        return float(match.group())
    raise _invalid(f"Expected a quoted string or a number at {scanner.rest()!r}.")


def _string(match: re.Match) -> str:
    if match.group("single") is not None:
        return match.group("single").replace("''", "'")
    return match.group("double")


def parse_filter(text: str | None, *, default_kind: str = ATTRIBUTE) -> list[Clause]:
    """The clauses of a filter, joined by `and`; an empty filter has none. Anything else is INVALID_PARAMETER_VALUE."""
    if text is None or not text.strip():
        return []
    if len(text) > FILTER_MAX_LENGTH:
        raise _invalid(f"A filter may be at most {FILTER_MAX_LENGTH} characters long.")
    scanner = _Scanner(text)
    clauses = []
    while True:
        if len(clauses) == FILTER_MAX_CLAUSES:
            raise _invalid(f"A filter may hold at most {FILTER_MAX_CLAUSES} clauses.")
        kind, key = _identifier(scanner, default_kind=default_kind)
        match = scanner.take(_COMPARATOR)
        if not match:
            raise _invalid(f"Invalid comparator at {scanner.rest()!r} in filter {text!r}.")
        comparator = " ".join(match.group("op").upper().split())
        clauses.append(Clause(kind, key, comparator, _value(scanner, comparator)))
        if scanner.at_end():
            return clauses
        if not scanner.take(_AND):
            word = scanner.rest().split()[0] if scanner.rest().split() else scanner.rest()
            raise _invalid(f"Invalid clause(s) in filter string: {word!r}.")


def parse_order_by(terms: list | None, *, default_kind: str = ATTRIBUTE) -> list[OrderTerm]:
    """`order_by` terms: `<identifier> [ASC|DESC]`, ascending unless told."""
    if terms and len(terms) > ORDER_BY_MAX_TERMS:
        raise _invalid(f"order_by may hold at most {ORDER_BY_MAX_TERMS} terms.")
    parsed = []
    for term in terms or []:
        if not isinstance(term, str):
            raise _invalid(f"Invalid order_by clause {term!r}.")
        scanner = _Scanner(term)
        kind, key = _identifier(scanner, default_kind=default_kind)
        if kind == DATASET:
            raise _invalid(f"Invalid order_by clause {term!r}: runs are not ordered by their datasets.")
        direction = scanner.take(_DIRECTION)
        if not scanner.at_end():
            raise _invalid(f"Invalid order_by clause {term!r}.")
        parsed.append(OrderTerm(kind, key, direction is None or direction.group(1).lower() == "asc"))
    return parsed
