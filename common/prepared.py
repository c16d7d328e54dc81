"""Statements built with the ORM once, then run with new values: for the queries that every request runs.

Django builds and compiles a QuerySet's SQL each time it is evaluated. For a list of experiments that takes longer
than the database takes to answer, and it is the same SQL for every caller but for a few values. A `Prepared`
statement is a QuerySet whose changing values are `Late` placeholders; it is compiled on its first use on a database
and afterwards only run, with the values of each call. The rule it encodes stays where it is, in the QuerySet methods
the statement is built from.

Written here because no maintained library does it: django-prepared-queries, the one that did, had its last release in
2019 and requires Django below 2.2.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.db import connections
from django.db.models import Expression, Field, Model, QuerySet


class Late(Expression):
    """A value given when a `Prepared` statement runs, named `name`: a placeholder in the compiled SQL.

    `output_field` prepares the value for the database as that field would (a datetime for SQLite, say).
    """

    def __init__(self, name: str, output_field: Field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", (self,)

    def __repr__(self) -> str:
        return f"Late({self.name!r})"


class Prepared:
    """The SQL of the QuerySet `build()` returns, compiled once per database and run with new `Late` values.

    `template` wraps that SQL (`{}`), for what a QuerySet does not compile to: `SELECT COUNT(*) FROM ({}) AS rows`.
    """

    def __init__(self, build: Callable[[], QuerySet], *, template: str = "{}"):
        self.build = build
        self.template = template
        self._compiled: dict[str, tuple[type[Model], str, tuple]] = {}

    def compiled(self, using: str) -> tuple[type[Model], str, tuple]:
        if using not in self._compiled:
            queryset = self.build()
            sql, params = queryset.query.get_compiler(using).as_sql()
            self._compiled[using] = (queryset.model, self.template.format(sql), tuple(params))
        return self._compiled[using]

    def sql_with_params(self, values: Mapping[str, Any], using: str) -> tuple[str, list]:
        _, sql, params = self.compiled(using)
        connection = connections[using]
        return sql, [
            param.output_field.get_db_prep_value(values[param.name], connection) if isinstance(param, Late) else param
            for param in params
        ]

    def instances(self, values: Mapping[str, Any], using: str = "default", *, suffix: str = "", extra=()) -> list:
        """The model instances the statement reads with `values`, their annotations set as attributes; `suffix` and
        its parameters `extra` follow the compiled SQL."""
        model = self.compiled(using)[0]
        sql, params = self.sql_with_params(values, using)
        return list(model._default_manager.db_manager(using).raw(f"{sql}{suffix}", [*params, *extra]))


class PreparedList:
    """A list run by two prepared statements, one for its rows (in order) and one for their count, with `values`.

    It offers what the paginator asks of a QuerySet, `count()` and a slice, whose rows `row(instance)` finishes.
    """

    def __init__(
        self,
        rows: Prepared,
        count: Prepared,
        values: Mapping[str, Any],
        *,
        row: Callable[[Model], Model] = lambda instance: instance,
        using: str = "default",
    ):
        self.rows, self.counter, self.values, self.row, self.using = rows, count, values, row, using

    def count(self) -> int:
        sql, params = self.counter.sql_with_params(self.values, self.using)
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def __getitem__(self, window: slice) -> list[Model]:
        if not isinstance(window, slice) or window.step is not None or window.start is None or window.stop is None:
            raise TypeError("A prepared list is read a window at a time: list[start:stop].")
        # LIMIT and OFFSET as parameters, so that every page runs the same statement (both databases take this form).
        page = self.rows.instances(
            self.values, self.using, suffix=" LIMIT %s OFFSET %s", extra=(window.stop - window.start, window.start)
        )
        return [self.row(instance) for instance in page]
