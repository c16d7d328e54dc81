"""Logged models and datasets with the full MLflow client (mlflow-full-requirements.txt) against a live Registry, on
SQLite and on PostgreSQL: `log_model`, `load_model` by `runs:/` and `models:/` URIs, autologging with its defaults,
`log_input`, a search by dataset and a metric on a dataset, and another user refused on every route of a model and
of a run's inputs."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from systemtests.harness import UNTHROTTLED, client_python, register_and_login, request
from systemtests.test_artifacts import mlflow_error, personal_access_token, raw

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "mlflow-full-requirements.txt"
WORKFLOW_TIMEOUT = 600


@pytest.fixture(scope="session")
def mlflow_full_python() -> Path:
    return client_python(REQUIREMENTS, "mlflow-full")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    return request.getfixturevalue("postgres") if request.param == "postgres" else None


def test_the_full_mlflow_client_logs_and_loads_models(mlflow_full_python, database, start_server, tmp_path):
    server = start_server(database, AUTH_THROTTLE_RATE=UNTHROTTLED)
    alice = personal_access_token(server.port, register_and_login(server.port, "alice")["access"])
    bob = personal_access_token(server.port, register_and_login(server.port, "bob")["access"])
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{server.port}",
        "MLFLOW_TRACKING_TOKEN": alice,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    result = subprocess.run(
        [str(mlflow_full_python), str(HERE / "mlflow_models_workflow.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKFLOW_TIMEOUT,
    )
    assert result.returncode == 0, f"the workflow failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    out = json.loads(result.stdout.strip().splitlines()[-1])
    experiment_id, run_id, model_id = out["experiment_id"], out["run_id"], out["model_id"]

    assert (out["same_by_run"], out["same_by_id"]) == (True, True)
    assert out["model"] == {
        "name": "model",
        "status": "READY",
        "source_run_id": run_id,
        "experiment_id": experiment_id,
        "artifact_location": f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts",
    }
    assert out["model_files"] == [
        "MLmodel",
        "conda.yaml",
        "model.skops",
        "python_env.yaml",
        "requirements.txt",
    ]
    assert out["outputs"] == [[model_id, 0]]
    assert out["search"] == [model_id]

    assert out["autolog_status"] == "FINISHED"
    assert out["autolog_metrics"] == [
        "training_accuracy_score",
        "training_f1_score",
        "training_log_loss",
        "training_precision_score",
        "training_recall_score",
        "training_roc_auc",
        "training_score",
    ]
    assert out["autolog_params_count"] > 10
    assert out["autolog_artifacts"] == [
        "estimator.html",
        "training_confusion_matrix.png",
        "training_precision_recall_curve.png",
        "training_roc_curve.png",
    ]
    assert out["autolog_models"] == [["model", "READY"]]
    assert out["autolog_outputs"] == 1
    assert out["autolog_datasets"] == [["code", [["mlflow.data.context", "train"]]]]

    assert out["inputs"] == [["tiny", True, "code", [["mlflow.data.context", "training"]]]]
    assert out["inputs_metrics"] == {"loss": 0.25}
    assert out["dataset_schema"] is True
    assert out["found_by_dataset"] == [True]

    # Another user, without a role, is refused on every route of the model, and it stays as it was.
    api = f"/api/2.0/mlflow/logged-models/{model_id}"
    files = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/models/{model_id}/artifacts"
    before = request(server.port, "GET", api, token=alice).json()
    for method, path, body in [
        ("GET", api, None),
        ("PATCH", api, {"status": "LOGGED_MODEL_UPLOAD_FAILED"}),
        ("DELETE", api, None),
        ("PATCH", f"{api}/tags", {"tags": [{"key": "k", "value": "v"}]}),
        ("DELETE", f"{api}/tags/mlflow.source.type", None),
        ("POST", f"{api}/params", {"params": [{"key": "k", "value": "v"}]}),
        ("POST", "/api/2.0/mlflow/logged-models", {"experiment_id": experiment_id}),
        ("POST", "/api/2.0/mlflow/logged-models/search", {"experiment_ids": [experiment_id]}),
        ("POST", "/api/2.0/mlflow/runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id}]}),
        ("POST", "/api/2.0/mlflow/runs/log-inputs", {"run_id": run_id, "models": [{"model_id": model_id}]}),
        ("POST", "/api/2.0/mlflow/experiments/search-datasets", {"experiment_ids": [experiment_id]}),
    ]:
        response = request(server.port, method, path, data=body, token=bob)
        assert (response.status, response.json()["error_code"]) == (403, "PERMISSION_DENIED"), (method, path)
    for method, path, body in [
        ("GET", f"{files}/MLmodel", None),
        ("PUT", f"{files}/MLmodel", b"x"),
        ("DELETE", f"{files}/MLmodel", None),
        ("GET", f"/api/2.0/mlflow-artifacts/artifacts?path={experiment_id}/models/{model_id}/artifacts", None),
    ]:
        assert mlflow_error(raw(server.port, method, path, bob, body)) == (403, "PERMISSION_DENIED"), (method, path)
    assert request(server.port, "GET", api, token=alice).json() == before
