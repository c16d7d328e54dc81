"""`metrics/get-history-bulk-interval` and `GET /version`, answered as MLflow 3.17.2's server answers them.

The expected steps were read from MLflow's server given the same histories (see each table's comment)."""

import pytest
from django.db import connection

from experiments.tests.factories import ExperimentFactory
from mlflow_api.tests.test_mlflow_api import error, ok
from projects.models import ProjectMembership
from projects.tests.factories import ProjectFactory
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db

BULK = "metrics/get-history-bulk-interval"


@pytest.fixture
def runs(user):
    """Three runs of one project: steps 0 to 999 (value = step), steps 0 to 990 by tens (value = step / 10), and ten
    values at step 0 (value = its index), each at timestamp 1000 + its index."""
    project = ProjectFactory(owner=user)
    made = [ExperimentFactory(owner=user, project=project) for _ in range(3)]
    metrics_record(experiment=made[0], points=[Point("m", float(i), i, 1000 + i) for i in range(1000)])
    metrics_record(experiment=made[1], points=[Point("m", float(i), i * 10, 1000 + i) for i in range(100)])
    metrics_record(experiment=made[2], points=[Point("m", float(i), 0, 1000 + i) for i in range(10)])
    return made


def _steps(client, root: str, runs, which: list[int], **params) -> dict[int, list[tuple]]:
    query = {"run_ids": [runs[index].run_uuid for index in which], "metric_key": "m", **params}
    answer = ok(client.get(f"/{root}/2.0/mlflow/{BULK}", query))
    by_run: dict[int, list[tuple]] = {}
    for metric in answer.get("metrics", []):
        assert metric["key"] == "m"
        index = next(i for i, run in enumerate(runs) if run.run_uuid == metric["run_id"])
        by_run.setdefault(index, []).append((metric["step"], metric["value"]))
    return by_run


# (runs, parameters, the (step, value) points of each run) as MLflow's server answered them.
MLFLOW_SAMPLES = [
    ([0], {"max_results": 5}, {0: [(0, 0.0), (200, 200.0), (400, 400.0), (600, 600.0), (999, 999.0)]}),
    ([0], {"max_results": 1}, {0: [(999, 999.0)]}),
    ([0], {"max_results": 4, "start_step": 10, "end_step": 20}, {0: [(10, 10.0), (13, 13.0), (16, 16.0), (20, 20.0)]}),
    ([0], {"max_results": 2}, {0: [(0, 0.0), (999, 999.0)]}),
    ([0], {"max_results": 3, "start_step": 2000, "end_step": 3000}, {}),
    (
        [0, 1],
        {"max_results": 7},
        {
            0: [(0, 0.0), (143, 143.0), (286, 286.0), (429, 429.0), (572, 572.0), (715, 715.0), (999, 999.0)],
            # MLflow: (0, 0.0), (150, 15.0), (300, 30.0), (440, 44.0), (580, 58.0), (720, 72.0), (990, 99.0): it
            # spaces the points by rank among those logged, which needs every point read; spaced by step value,
            # each point is one index seek (tracking.selectors.metric_history_sample).
            1: [(0, 0.0), (150, 15.0), (290, 29.0), (430, 43.0), (570, 57.0), (710, 71.0), (990, 99.0)],
        },
    ),
    # MLflow: (0, 0.0), (0, 4.0), (0, 9.0); of points sharing a step, the first and the range's last.
    ([2], {"max_results": 3}, {2: [(0, 0.0), (0, 9.0)]}),
]


@pytest.mark.parametrize("root", ["api", "ajax-api"])
@pytest.mark.parametrize(("which", "params", "expected"), MLFLOW_SAMPLES)
def test_bulk_interval_samples_evenly_keeping_the_first_and_last(user_client, runs, root, which, params, expected):
    assert _steps(user_client, root, runs, which, **params) == expected


def test_bulk_interval_of_a_metric_never_logged_is_empty(user_client, runs):
    query = {"run_ids": [runs[0].run_uuid], "metric_key": "nothing"}
    assert ok(user_client.get(f"/api/2.0/mlflow/{BULK}", query)) == {}


def test_bulk_interval_answers_mlflows_shape(user_client, runs):
    query = {"run_ids": [runs[0].run_uuid], "metric_key": "m", "max_results": 2}
    assert ok(user_client.get(f"/api/2.0/mlflow/{BULK}", query)) == {
        "metrics": [
            {"key": "m", "value": 0.0, "timestamp": 1000, "step": 0, "run_id": runs[0].run_uuid},
            {"key": "m", "value": 999.0, "timestamp": 1999, "step": 999, "run_id": runs[0].run_uuid},
        ]
    }


# (parameters beside run_ids, the number of run ids) that MLflow's server refused with 400 INVALID_PARAMETER_VALUE.
MLFLOW_REFUSALS = [
    ({"metric_key": "m", "start_step": 10}, 1),
    ({"metric_key": "m", "start_step": 20, "end_step": 10}, 1),
    ({"metric_key": "m", "max_results": 0}, 1),
    ({"metric_key": "m", "max_results": 2501}, 1),
    ({}, 1),
    ({"metric_key": "m"}, 0),
    ({"metric_key": "m"}, 101),
]


@pytest.mark.parametrize(("params", "count"), MLFLOW_REFUSALS)
def test_bulk_interval_refuses_what_mlflow_refuses(user_client, runs, params, count):
    query = {"run_ids": [runs[0].run_uuid] * count, **params}
    error(user_client.get(f"/api/2.0/mlflow/{BULK}", query), 400, "INVALID_PARAMETER_VALUE")


def test_bulk_interval_reads_only_runs_the_caller_may_read(runs, other_user, client_for):
    other = client_for(other_user)
    query = {"run_ids": [runs[0].run_uuid], "metric_key": "m"}
    error(other.get(f"/api/2.0/mlflow/{BULK}", query), 403, "PERMISSION_DENIED")
    ProjectMembership.objects.create(project=runs[0].project, user=other_user, role="viewer")
    assert len(ok(other.get(f"/api/2.0/mlflow/{BULK}", query))["metrics"]) == 1000


def test_bulk_interval_reads_in_queries_that_do_not_grow_with_the_points(
    user_client, runs, django_assert_max_num_queries
):
    # The token and each run's lookup, then one statement for every run's sample.
    with django_assert_max_num_queries(6):
        _steps(user_client, "api", runs, [0, 1, 2], max_results=2500)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN ANALYZE's row counts are PostgreSQL's")
def test_bulk_interval_reads_a_few_index_entries_per_point_not_the_history():
    run = ExperimentFactory()
    for start in range(0, 100_000, 1000):
        metrics_record(experiment=run, points=[Point("m", float(i), i, i) for i in range(start, start + 1000)])
    from tracking import selectors

    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        selectors.metric_history_sample(
            experiment_ids=[run.pk], key="m", max_results=1000, start_step=None, end_step=None
        )
    sql, params = captured[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]

    def rows_read(node) -> int:
        # The rows a scan returned and those it read and dropped (a condition the index could not seek to).
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        own = read * node.get("Actual Loops", 1) if "Scan" in node["Node Type"] else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    # A thousand points, each one seek: a few thousand index entries, not the 100,000 rows again for every point.
    assert rows_read(plan) < 5000


def test_version_answers_mlflows_version_in_plain_text_without_a_login(api_client):
    response = api_client.get("/version")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"3.17.2"


@pytest.mark.parametrize("path", ["/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"])
def test_server_info_says_what_is_offered_without_a_login(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }
