"""LIKE patterns as MLflow's search grammar reads them (`%` any run of characters, `_` one), matched by the database
or, for values the database does not hold (status names), in Python with the same rules."""

from django.db.models import BooleanField, Func

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
