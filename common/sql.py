"""SQL building blocks that the ORM does not offer, shared by the apps' QuerySets and selectors."""

import orjson
from django.db import models
from django.db.models import Expression, Lookup, TextField


class InSubquery(Lookup):
    """`column IN (subquery)`, written on PostgreSQL as `column = ANY(ARRAY(subquery))`.

    PostgreSQL runs `ARRAY(subquery)` once, before the scan, and can then look the ids up in an index, also beside an
    OR (a bitmap OR of two index scans); `IN (subquery)` under an OR becomes a hashed subplan tested on every row of
    the table, which at a million rows is a scan of all of them. SQLite plans `IN (subquery)` through its indexes.
    """

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


def union_all(*querysets: models.QuerySet) -> models.QuerySet:
    first, *rest = querysets
    return first.union(*rest, all=True) if rest else first


class RowsOf(Expression):
    """The rows of `model` that belong to the row of the outer query (their foreign key `key` names it) as JSON text,
    read back by `rows_of`: an array with one array of `columns` per row (the `floats` among them as text that reads
    back as the same float, infinities included), or NULL or `[]` for none.

    Written as SQL rather than as a Subquery of an aggregate: building and compiling that subquery twice for every
    list request would cost more than its query takes to run. PostgreSQL evaluates it after the sort and the limit,
    for the rows returned only.
    """

    output_field = TextField()

    def __init__(self, model, columns: tuple[str, ...], floats: tuple[str, ...] = (), key: str = "experiment"):
        super().__init__()
        self.model, self.columns, self.floats, self.key = model, columns, floats, key

    def _column(self, name: str, connection) -> str:
        column = connection.ops.quote_name(self.model._meta.get_field(name).column)
        if name not in self.floats:
            return column
        # PostgreSQL writes the shortest text that reads back exactly; SQLite's own text keeps 15 digits, and 17
        # significant digits read back as the same double (the format goes as a parameter, clear of `%` escaping).
        return f"PRINTF(%s, {column})" if connection.vendor == "sqlite" else f"CAST({column} AS TEXT)"

    def as_sql(self, compiler, connection):
        columns = ", ".join(self._column(name, connection) for name in self.columns)
        rows = f"JSON_GROUP_ARRAY(JSON_ARRAY({columns}))"
        if connection.vendor != "sqlite":
            rows = f"CAST(JSON_AGG(JSON_BUILD_ARRAY({columns})) AS TEXT)"
        quote = connection.ops.quote_name
        outer = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        outer_pk = f"{outer}.{quote(compiler.query.model._meta.pk.column)}"
        table = quote(self.model._meta.db_table)
        key = f"{table}.{quote(self.model._meta.get_field(self.key).column)}"
        sql = f"(SELECT {rows} FROM {table} WHERE {key} = {outer_pk})"
        params = ("%!.17g",) * len(self.floats) if connection.vendor == "sqlite" else ()
        return sql, params


def rows_of(text: str | None) -> list:
    """The rows a RowsOf read, in order (NULL and `[]`: none)."""
    return sorted(orjson.loads(text)) if text else []
