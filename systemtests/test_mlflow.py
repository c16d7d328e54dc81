"""MLflow's own client (mlflow-skinny, pinned in mlflow-client-requirements.txt) logging to a live Registry, on SQLite
and on PostgreSQL: a training script's worth of calls (mlflow_workflow.py), then what it logged read back through the
MLflow client and through the REST API."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from systemtests.harness import UNTHROTTLED, client_python, register_and_login, report, request

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "mlflow-client-requirements.txt"
WORKFLOW_TIMEOUT = 300


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    """A virtualenv outside the repository holding only the pinned MLflow client, kept between runs."""
    return client_python(REQUIREMENTS, "mlflow-client")


@pytest.fixture(params=["sqlite", "postgres"])
def server(request, start_server):
    database = request.getfixturevalue("postgres") if request.param == "postgres" else None
    return start_server(database, AUTH_THROTTLE_RATE=UNTHROTTLED)


def personal_access_token(port: int, access: str, scope: str = "write") -> str:
    response = request(port, "POST", "/auth/tokens", data={"name": f"mlflow-{scope}", "scope": scope}, token=access)
    assert response.status == 201, response.text
    return response.json()["token"]


def run_workflow(python: Path, port: int, tokens: dict[str, str], workdir: Path) -> tuple[dict, float]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
        "MLFLOW_TRACKING_TOKEN": tokens["write"],
        "READ_TOKEN": tokens["read"],
        "OTHER_USERNAME": "bob",
        "OTHER_TOKEN": tokens["other"],
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # The client's default retries are left on, as users have them: the bad token must still fail at once.
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(python), str(HERE / "mlflow_workflow.py")],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKFLOW_TIMEOUT,
    )
    assert result.returncode == 0, f"the MLflow workflow failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1]), time.monotonic() - started


def test_the_mlflow_client_logs_to_registry_and_reads_everything_back(mlflow_python, server, tmp_path):
    alice = register_and_login(server.port, "alice")["access"]
    bob = register_and_login(server.port, "bob")["access"]
    tokens = {
        "write": personal_access_token(server.port, alice),
        "read": personal_access_token(server.port, alice, "read"),
        "other": personal_access_token(server.port, bob),
    }
    out, seconds = run_workflow(mlflow_python, server.port, tokens, tmp_path)

    # Read back through the MLflow client.
    assert out["set_experiment_again_same_id"] is True
    train = out["train"]
    assert (train["name"], train["status"], train["has_end_time"]) == ("train", "FINISHED", True)
    assert train["params"] == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert train["metrics"] == {"loss": 0.05, "acc": 0.9, "f1": 0.75, "diverged": "NaN", "overflow": "Infinity"}
    assert {
        key: train["tags"].get(key) for key in ("stage", "owner-note", "mlflow.runName", "mlflow.note.content")
    } == {
        "stage": "dev",
        "owner-note": "kept",
        "mlflow.runName": "train",
        "mlflow.note.content": "first try",
    }
    assert train["artifact_uri"] == f"mlflow-artifacts:/{out['experiment_id']}/{out['run_ids']['train']}/artifacts"
    assert out["param_relogged_other_value"] == "INVALID_PARAMETER_VALUE"
    assert out["child_parent"] is True
    assert out["unnamed"] == {"status": "FAILED", "name_generated": True, "name_tag_matches": True}
    assert out["loss_history"] == [[step, 1.0 / (step + 1)] for step in range(20)]
    assert out["big_history"] == {"count": 2500, "steps": True}
    assert out["big_latest"] == {"big": 2499.0}
    assert [value for _, value in out["search_loss"]] == [0.05, 0.5]
    assert out["search_loss"][0][0] == "train"
    assert out["search_param"] == ["train"]
    assert out["search_experiments"] == ["workflow"]
    assert out["renamed"] == {"name": "workflow-renamed", "tags": {"team": "vision"}}
    assert (out["run_deleted_stage"], out["run_restored_stage"]) == ("deleted", "active")
    assert out["active_runs_after_delete"] == ["big", "child", "train"]
    assert (out["experiment_deleted_stage"], out["experiment_restored_stage"]) == ("deleted", "active")
    assert out["deleted_experiments"] == ["scratch"]
    assert out["default_experiment_name"] == "Default"
    assert out["same_start_runs"] == 10
    assert out["other_user_experiments"] == [["0", "Default"]]
    assert (out["other_user_get_run"], out["other_user_log_metric"]) == ("PERMISSION_DENIED", "PERMISSION_DENIED")
    assert out["other_user_search"] == []
    # Bob's own "workflow" is a new project of his: alice's is not his to see.
    assert out["other_user_own_experiment"] is True
    assert (out["read_token_get_run"], out["read_token_log_metric"]) == ("train", "PERMISSION_DENIED")
    assert out["bad_token"] == "UNAUTHENTICATED"
    assert out["bad_token_seconds"] < 5

    # Read back through the REST API.
    alice = tokens["write"]
    project = request(server.port, "GET", f"/projects/{out['experiment_id']}/", token=alice).json()
    assert (project["name"], project["lifecycle_stage"]) == ("workflow-renamed", "active")
    runs = request(server.port, "GET", f"/projects/{out['experiment_id']}/experiments/?limit=100", token=alice).json()
    by_name = {run["name"]: run for run in runs}
    assert sorted(by_name) == sorted(["train", "child", "big", out["search_loss"][1][0]])
    rest_train = by_name["train"]
    assert rest_train["run_id"] == out["run_ids"]["train"]
    assert rest_train["status"] == "completed"
    assert rest_train["parameters"] == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert rest_train["results"] == {"acc": 0.9, "diverged": "NaN", "f1": 0.75, "loss": 0.05, "overflow": "Infinity"}
    assert rest_train["run_tags"]["stage"] == "dev"
    assert rest_train["run_tags"]["mlflow.runName"] == "train"
    history = request(server.port, "GET", f"/experiments/{rest_train['id']}/metrics/?key=loss", token=alice)
    assert [(point["step"], point["value"]) for point in history.json()] == [
        (step, 1.0 / (step + 1)) for step in range(20)
    ]
    big = by_name["big"]
    big_history = request(server.port, "GET", f"/experiments/{big['id']}/metrics/?key=big&limit=10000", token=alice)
    assert big_history.headers.get("x-total-count") == "2500"
    report(
        "MLflow client workflow",
        backend="postgres" if server.database_name else "sqlite",
        workflow_seconds=f"{seconds:.1f} (interpreter start and import of mlflow included)",
        bad_token_seconds=f"{out['bad_token_seconds']:.3f}",
    )
