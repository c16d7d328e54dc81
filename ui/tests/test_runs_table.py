import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory
from tracking.services import Point, metrics_record
from ui import tables

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_in(project, name: str, *, minutes: int = 0, loss: float | None = None, lr: str | None = None, seconds=None):
    started = T0 + datetime.timedelta(minutes=minutes)
    finished = started + datetime.timedelta(seconds=seconds) if seconds is not None else None
    run = ExperimentFactory(
        project=project,
        owner=project.owner,
        name=name,
        status="completed" if finished else "running",
        started_at=started,
        finished_at=finished,
        parameters={} if lr is None else {"lr": lr},
    )
    if loss is not None:
        metrics_record(experiment=run, points=[Point("loss", loss, 0, 1_700_000_000_000)])
    return run


def names(response) -> list[str]:
    return [row.run.name for row in response.context["table"].rows]


@pytest.fixture
def project(user):
    project = ProjectFactory(owner=user)
    run_in(project, "a", minutes=1, loss=0.5, lr="0.1", seconds=30)
    run_in(project, "b", minutes=2, loss=0.2, lr="0.01", seconds=3600)
    run_in(project, "c", minutes=3, loss=0.9)
    run_in(project, "d", minutes=4)
    return project


def get(project, **query):
    return signed_in(project.owner).get(reverse("ui:project", args=[project.pk]), query)


def test_default_order_is_newest_start_first(project):
    assert names(get(project)) == ["d", "c", "b", "a"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("metric:loss", ["b", "a", "c", "d"]),
        ("-metric:loss", ["c", "a", "b", "d"]),
        ("param:lr", ["b", "a", "c", "d"]),
        ("-param:lr", ["a", "b", "d", "c"]),
        ("name", ["a", "b", "c", "d"]),
        ("-name", ["d", "c", "b", "a"]),
        ("duration", ["a", "b", "c", "d"]),
        ("-duration", ["b", "a", "d", "c"]),
        ("start", ["a", "b", "c", "d"]),
        ("status", ["a", "b", "c", "d"]),
    ],
)
def test_sort_by_any_column_runs_without_the_value_last_ties_by_id_in_the_same_direction(project, sort, expected):
    assert names(get(project, sort=sort)) == expected


def test_sorting_by_a_metric_shows_its_column_and_the_latest_values(project):
    page = get(project, sort="-metric:loss").content.decode()
    assert 'data-column="metric:loss"' in page
    assert 'aria-sort="descending"' in page
    assert '<td class="num">0.9</td>' in page


def test_chosen_columns_come_from_the_query_and_stay_in_every_link(project):
    response = get(project, metric="loss", param="lr", sort="name")
    page = response.content.decode()
    assert "<td>0.01</td>" in page
    assert '<td class="num">0.2</td>' in page
    assert f'href="/ui/projects/{project.pk}?metric=loss&amp;param=lr&amp;sort=-name"' in page
    assert '<input type="checkbox" name="metric" value="loss" checked>' in page


@pytest.mark.parametrize("sort", ["-start", "metric:loss", "-metric:loss", "param:lr", "name", "-duration", "status"])
def test_keyset_pages_walk_every_run_once_in_order(user, sort, monkeypatch):
    monkeypatch.setattr(tables, "PAGE_SIZE", 3)
    project = ProjectFactory(owner=user)
    for index in range(10):
        run_in(
            project,
            f"run {index:02d}",
            minutes=index % 4,
            loss=None if index % 3 == 0 else float(index % 5),
            lr=None if index % 4 == 0 else str(index % 3),
            seconds=None if index % 5 == 0 else index % 2 * 60,
        )
    everything = names(get(project, sort=sort))
    assert len(everything) == 3
    client = signed_in(user)
    url = reverse("ui:project", args=[project.pk])
    walked, query = [], f"sort={sort}"
    for _ in range(10):
        response = client.get(f"{url}?{query}")
        walked += names(response)
        query = response.context["table"].next_query
        if query is None:
            break
    monkeypatch.setattr(tables, "PAGE_SIZE", 50)
    assert walked == names(get(project, sort=sort))
    assert len(walked) == 10


@pytest.mark.parametrize("after", ["garbage", "W10", "WyJ4IiwgMV0", "WzEuMCwgdHJ1ZV0"])
def test_a_forged_cursor_shows_the_first_page(project, after):
    response = get(project, sort="metric:loss", after=after)
    assert response.status_code == 200
    assert names(response) == ["b", "a", "c", "d"]


def test_an_unknown_sort_falls_back_to_the_default(project):
    assert names(get(project, sort="-nonsense")) == ["d", "c", "b", "a"]


def test_htmx_gets_only_the_table(project):
    response = signed_in(project.owner).get(
        reverse("ui:project", args=[project.pk]), {"sort": "name"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs"
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="runs"')
    assert "<html" not in page
    assert '<input type="hidden" id="sort" name="sort" value="name" hx-swap-oob="true">' in page


def test_queries_of_the_runs_table_do_not_grow_with_rows(user):
    project = ProjectFactory(owner=user)
    client = signed_in(user)
    url = reverse("ui:project", args=[project.pk])
    query = {"metric": ["loss", "acc"], "param": ["lr"], "sort": "-metric:loss"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        return len(queries)

    run_in(project, "one", loss=1.0, lr="1")
    few = count()
    for index in range(30):
        run_in(project, f"more {index}", minutes=index, loss=float(index), lr=str(index), seconds=index)
    assert count() == few


def test_duration_of_a_finished_run_is_shown(project):
    page = get(project).content.decode()
    assert "<td>30.0s</td>" in page
    assert "<td>1h 00m 00s</td>" in page


def test_format_duration():
    assert tables.format_duration(None) == ""
    assert tables.format_duration(datetime.timedelta(seconds=5.25)) == "5.2s"
    assert tables.format_duration(datetime.timedelta(minutes=3, seconds=7)) == "3m 07s"
    assert tables.format_duration(datetime.timedelta(hours=26, seconds=1)) == "26h 00m 01s"


def test_deleted_runs_are_not_listed(project):
    run = project.experiments.get(name="a")
    run.lifecycle_stage = "deleted"
    run.save()
    assert names(get(project)) == ["d", "c", "b"]


def test_a_project_now_started_run_sorts_first(project):
    run_in(project, "newest", minutes=60 * 24 * 365 * 2)
    assert timezone.now() > T0
    assert names(get(project))[0] == "newest"


def test_the_table_offers_each_run_for_comparison(project):
    page = get(project).content.decode()
    run = project.experiments.get(name="a")
    assert f'<form method="get" action="/ui/projects/{project.pk}/compare" id="compare">' in page
    assert f'<input type="checkbox" name="run" value="{run.run_uuid}" aria-label="Compare a">' in page


def test_the_column_picker_offers_keys_of_the_newest_runs(user, monkeypatch):
    monkeypatch.setattr("experiments.selectors.KEYS_FROM_RUNS", 2)
    project = ProjectFactory(owner=user)
    old = run_in(project, "old", loss=1.0, lr="1")
    old.parameters = {"old_param": "1"}
    old.save()
    metrics_record(experiment=old, points=[Point("old_metric", 1.0, 0, 1_700_000_000_000)])
    run_in(project, "new", loss=1.0, lr="1")
    run_in(project, "newer", loss=1.0)
    response = get(project)
    assert response.context["metric_keys"] == [("loss", False)]
    assert response.context["param_keys"] == [("lr", False)]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.loss < 0.6", ["b", "a"]),
        ("metrics.loss >= 0.5 and params.lr = '0.1'", ["a"]),
        ("params.lr LIKE '0.0%'", ["b"]),
        ("attributes.status = 'running'", ["d", "c"]),
        ("attributes.run_name ILIKE 'A'", ["a"]),
        ("  ", ["d", "c", "b", "a"]),
    ],
)
def test_the_filter_box_keeps_the_runs_that_match_mlflows_search_grammar(project, filter_string, expected):
    assert names(get(project, filter=filter_string)) == expected


def test_a_filter_keeps_its_sort_columns_and_pages(project):
    response = get(project, filter="metrics.loss < 0.6", sort="metric:loss", param="lr")
    assert names(response) == ["b", "a"]
    table = response.context["table"]
    assert table.query() == "filter=metrics.loss+%3C+0.6&metric=loss&param=lr&sort=metric%3Aloss"
    page = response.content.decode()
    assert 'value="metrics.loss &lt; 0.6"' in page
    # Every sort link keeps the filter.
    for column in table.columns:
        assert column.sort_query.startswith("filter=metrics.loss+%3C+0.6&"), column.id


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("metrics.loss <", "This filter was not understood: "),
        ("loss < 0.5 or params.lr = '1'", "This filter was not understood: "),
        ("attributes.colour = 'red'", "Invalid attribute key &#x27;colour&#x27; for searching runs."),
    ],
)
def test_a_bad_filter_says_why_and_shows_no_runs(project, filter_string, message):
    response = get(project, filter=filter_string)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert names(response) == []
    # The table alone, as htmx asks for it, says so too.
    partial = signed_in(project.owner).get(
        reverse("ui:project", args=[project.pk]),
        {"filter": filter_string},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="runs",
    )
    assert 'data-testid="filter-error"' in partial.content.decode()


def test_a_filter_that_matches_nothing_says_so(project):
    page = get(project, filter="metrics.loss > 5").content.decode()
    assert "No runs match this filter." in page
