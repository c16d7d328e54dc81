"""Prepared statements: compiled once per database, run with the values of each call."""

from datetime import UTC, datetime

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from common.prepared import Late, Prepared, PreparedList

pytestmark = pytest.mark.django_db

JOINED = Late("joined", models.DateTimeField())
ID = Late("id", models.BigIntegerField())


def test_a_prepared_statement_is_built_once_and_run_with_each_calls_values():
    built = []

    def build():
        built.append(1)
        return User.objects.filter(pk__gte=ID, date_joined__lt=JOINED).order_by("pk")

    early, late = UserFactory(date_joined=datetime(2020, 1, 1, tzinfo=UTC)), UserFactory()
    listed = PreparedList(
        Prepared(build),
        Prepared(lambda: build().values("pk"), template="SELECT COUNT(*) FROM ({}) AS chosen"),
        {"id": early.pk, "joined": datetime(2021, 1, 1, tzinfo=UTC)},
    )
    assert (listed.count(), [user.pk for user in listed[0:10]]) == (1, [early.pk])
    later = PreparedList(listed.rows, listed.counter, {"id": early.pk, "joined": datetime(2100, 1, 1, tzinfo=UTC)})
    assert (later.count(), [user.pk for user in later[0:10]]) == (2, [early.pk, late.pk])
    assert [user.pk for user in later[1:2]] == [late.pk]
    assert len(built) == 2  # Once for the rows, once for the count, whatever the calls.


def test_a_page_is_one_statement_with_its_window_as_parameters():
    users = [UserFactory() for _ in range(3)]
    listed = PreparedList(Prepared(lambda: User.objects.filter(pk__gte=ID).order_by("pk")), None, {"id": users[0].pk})
    with CaptureQueriesContext(connection) as queries:
        page = listed[1:3]
    assert [user.pk for user in page] == [users[1].pk, users[2].pk]
    assert len(queries) == 1
    assert queries[0]["sql"].endswith("LIMIT 2 OFFSET 1")
