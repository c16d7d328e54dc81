"""Artifacts with the full MLflow package (pinned in mlflow-full-requirements.txt, with scikit-learn and matplotlib)
against a live Registry, on SQLite and on PostgreSQL: every kind of artifact logged, listed and downloaded byte for
byte, scikit-learn's autologging, and, over raw HTTP, the refusals: another user, hostile paths, a file too large."""

import http.client
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from systemtests.harness import HOST, UNTHROTTLED, client_python, register_and_login, request
from systemtests.seaweedfs import BUCKET, SeaweedFS

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "mlflow-full-requirements.txt"
WORKFLOW_TIMEOUT = 600
# Small enough to exceed in a test, larger than the workflow's biggest file and than the 1 MiB limit of other bodies.
MAX_BYTES = 8 * 1024 * 1024
PURGE_TIMEOUT = 30


@pytest.fixture(scope="session")
def mlflow_full_python() -> Path:
    return client_python(REQUIREMENTS, "mlflow-full")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


class Store:
    """The files a server stored, read where it stores them: its data folder, or its prefix in the S3 bucket."""

    def __init__(self, server, s3: SeaweedFS | None, prefix: str):
        self.server, self.s3, self.prefix = server, s3, prefix

    def files(self) -> list[str]:
        if self.s3 is not None:
            return self.s3.keys(self.prefix)
        root = self.server.data_dir / "artifacts"
        return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())

    def spooled(self) -> list[Path]:
        return list((self.server.data_dir / "artifacts-incoming").iterdir())


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    return request.getfixturevalue("postgres") if request.param == "postgres" else None


@pytest.fixture(params=["filesystem", "s3"])
def store(request, database, start_server) -> Store:
    env = {"AUTH_THROTTLE_RATE": UNTHROTTLED, "ARTIFACT_MAX_BYTES": str(MAX_BYTES)}
    s3 = None
    prefix = f"artifacts-{uuid.uuid4().hex}"
    if request.param == "s3":
        s3 = request.getfixturevalue("seaweedfs")
        env.update(ARTIFACTS_URL=f"s3://{BUCKET}/{prefix}", ARTIFACTS_S3_ENDPOINT_URL=s3.endpoint)
        env.update(ARTIFACTS_S3_ACCESS_KEY_ID="x", ARTIFACTS_S3_SECRET_ACCESS_KEY="x", ARTIFACTS_S3_REGION="us-east-1")
        env.update(ARTIFACTS_S3_ADDRESSING_STYLE="path")
    # A task worker beside it deletes the files of deleted experiments.
    return Store(start_server(database, workers=1, **env), s3, prefix)


def personal_access_token(port: int, access: str) -> str:
    response = request(port, "POST", "/auth/tokens", data={"name": "artifacts", "scope": "write"}, token=access)
    assert response.status == 201, response.text
    return response.json()["token"]


def raw(port: int, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    """One request with a raw body and path (not re-quoted), as a client that crafts paths sends it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def mlflow_error(answer: tuple[int, dict, bytes]) -> tuple[int, str]:
    status, _, body = answer
    return status, json.loads(body)["error_code"]


def test_the_full_mlflow_client_stores_and_reads_artifacts(mlflow_full_python, store, tmp_path):
    server = store.server
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
        # A refusal must not be retried for minutes: fail fast if a 5xx slips through.
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    result = subprocess.run(
        [str(mlflow_full_python), str(HERE / "mlflow_artifacts_workflow.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKFLOW_TIMEOUT,
    )
    assert result.returncode == 0, f"the workflow failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    out = json.loads(result.stdout.strip().splitlines()[-1])
    experiment_id, run_id = out["experiment_id"], out["run_id"]

    assert out["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    size = 3 * 1024 * 1024 + 5
    assert [tuple(entry) for entry in out["root"]] == [
        ("config.json", False, 50),
        ("copies", True, None),
        ("notes", True, None),
        ("plots", True, None),
        ("tables", True, None),
        ("tree", True, None),
        ("weights.bin", False, size),
    ]
    assert [tuple(entry) for entry in out["tree_sub"]] == [
        ("tree/sub/b.csv", False, 8),
        ("tree/sub/deeper", True, None),
    ]
    assert out["listing_a_file"] == []
    assert (out["same_weights"], out["same_copy"], out["same_tree"]) == (True, True, True)
    assert out["text"] == "héllo wörld\n"
    assert out["dict"] == out["loaded_dict"] == {"lr": 0.01, "layers": [64, 32]}
    assert out["loaded_text"] == "héllo wörld\n"
    assert out["table"] == {"columns": ["x", "y"], "data": [[1, "a"], [2, "b"]]}
    assert out["png_magic"] == [True, True]
    assert out["single_file"] == "x,y\n1,2\n"
    assert out["after_delete"] == ["config.json", "notes", "plots", "tables", "tree", "weights.bin"]

    # scikit-learn's autologging records the metrics and plots that MLflow's own server records.
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

    # What is on disk: the run's files under its own folder, nothing left in the spool.
    files = store.files()
    assert f"{run_id}/weights.bin" in files and f"{run_id}/tree/sub/deeper/c.json" in files
    assert f"{run_id}/copies/weights.bin" not in files
    assert store.spooled() == []

    base = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
    listing = f"/api/2.0/mlflow-artifacts/artifacts?path={experiment_id}/{run_id}/artifacts"

    # Another user, without a role, is refused on every route, and nothing changes.
    before = store.files()
    for method, path, body in [
        ("GET", f"{base}/config.json", None),
        ("PUT", f"{base}/config.json", b"{}"),
        ("PUT", f"{base}/new.txt", b"new"),
        ("DELETE", f"{base}/config.json", None),
        ("GET", listing, None),
        ("GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}", None),
    ]:
        assert mlflow_error(raw(server.port, method, path, bob, body)) == (403, "PERMISSION_DENIED"), (method, path)
    assert store.files() == before

    # Hostile paths are refused with 400 and store nothing.
    for path in ["../../x", "a/../../../x", "%2E%2E/x", "a%5Cb", "a%00b", "a//b", "a/", "n" * 300]:
        assert mlflow_error(raw(server.port, "PUT", f"{base}/{path}", alice, b"x")) == (400, "INVALID_PARAMETER_VALUE")
        assert mlflow_error(raw(server.port, "GET", f"{base}/{path}", alice)) == (400, "INVALID_PARAMETER_VALUE")
    assert store.files() == before

    # A file over ARTIFACT_MAX_BYTES answers 413 and leaves nothing: declared (answered before the body is sent) or
    # sent in chunks.
    with socket.create_connection((HOST, server.port), timeout=60) as connection:
        connection.sendall(
            f"PUT {base}/too-big.bin HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {alice}\r\n"
            f"Content-Length: {MAX_BYTES + 1}\r\nConnection: close\r\n\r\n".encode()
        )
        assert connection.recv(64).startswith(b"HTTP/1.1 413 ")
    chunks = (b"x" * size for size in [MAX_BYTES, 1])
    assert raw(server.port, "PUT", f"{base}/too-big-chunked.bin", alice, chunks)[0] == 413
    assert store.files() == before
    assert store.spooled() == []

    # A chunked upload (no Content-Length) is read to its end.
    pieces = [os.urandom(700 * 1024) for _ in range(3)]
    assert raw(server.port, "PUT", f"{base}/chunked.bin", alice, iter(pieces))[0] == 200
    assert raw(server.port, "GET", f"{base}/chunked.bin", alice)[2] == b"".join(pieces)

    # Downloads: ranges, and a file a browser could run sent as an attachment.
    assert raw(server.port, "PUT", f"{base}/page.html", alice, b"<script>alert(1)</script>")[0] == 200
    status, headers, body = raw(server.port, "GET", f"{base}/page.html", alice)
    assert (status, headers["Content-Disposition"], headers["X-Content-Type-Options"]) == (
        200,
        'attachment; filename="page.html"',
        "nosniff",
    )
    connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
    connection.request("GET", f"{base}/weights.bin", headers={"Authorization": f"Bearer {alice}", "Range": "bytes=-5"})
    response = connection.getresponse()
    assert (response.status, response.getheader("Content-Range"), len(response.read())) == (
        206,
        f"bytes {size - 5}-{size - 1}/{size}",
        5,
    )
    connection.close()

    # Deleting the experiment deletes its files, by the task worker, once the deletion has committed.
    runs = request(server.port, "GET", f"/projects/{experiment_id}/experiments/?limit=100", token=alice).json()
    rest_id = next(run["id"] for run in runs if run["run_id"] == run_id)
    assert request(server.port, "DELETE", f"/experiments/{rest_id}/", token=alice).status == 204
    deadline = time.monotonic() + PURGE_TIMEOUT
    while any(name.startswith(f"{run_id}/") for name in store.files()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [name for name in store.files() if name.startswith(f"{run_id}/")] == []
    assert request(server.port, "GET", "/health").json()["artifacts"] == "ok"
