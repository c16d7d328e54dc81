"""Registry beside MLflow's own tracking server, on the same data and the same backend, one worker process each.

`make bench-mlflow` runs this. It installs the `mlflow` server package (pinned below) in a virtualenv of its own
outside the repository, then for each backend (SQLite, then PostgreSQL when it answers) starts both servers, loads the
same data into each through MLflow's REST API and times each server's answers with a plain keep-alive HTTP client (the
MLflow client itself costs more than the difference being measured). It prints the figures and the ratios.

Settings (environment): BENCH_RUNS (runs searched, default 10000), BENCH_HISTORY (points in the history read, default
10000), BENCH_REPEAT (timed repetitions, median reported, default 5), BENCH_BACKENDS (default "sqlite,postgres"),
PG_HOST, PG_PORT, PG_USER (as the system tests).
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from systemtests.harness import Postgres, Server, free_port, register_and_login  # noqa: E402

MLFLOW_SERVER = ["mlflow==3.17.2", "psycopg2-binary==2.9.13"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "registry-bench"
RUNS = int(os.environ.get("BENCH_RUNS", "10000"))
HISTORY = int(os.environ.get("BENCH_HISTORY", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
SEED_THREADS = 4


def mlflow_venv() -> Path:
    venv = CACHE / ("mlflow-server-" + "-".join(MLFLOW_SERVER).replace("==", "-"))
    if not (venv / ".installed").exists():
        print(f"Installing {', '.join(MLFLOW_SERVER)} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *MLFLOW_SERVER], check=True)
        (venv / ".installed").touch()
    return venv


class Client:
    """Calls to a server's MLflow API, each on a fresh connection (gunicorn's sync workers close every connection,
    uvicorn closes idle ones): a connection to 127.0.0.1 costs a fraction of a millisecond, counted for both."""

    def __init__(self, port: int, token: str | None):
        self.port = port
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None, query: str = "") -> tuple[dict, float]:
        url = f"/api/2.0/mlflow/{path}" + (f"?{query}" if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            started = time.perf_counter()
            connection.request(method, url, body=payload, headers=self.headers)
            response = connection.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - started
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"{method} {url} on :{self.port} answered {response.status}: {data[:300]!r}")
        return (json.loads(data) if data else {}), elapsed


def start_mlflow(venv: Path, backend_uri: str, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(workdir / "mlflow.log", "w")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(
        [
            str(venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            str(workdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"MLflow did not start; see {workdir / 'mlflow.log'}")


def seed(port: int, token: str | None) -> dict:
    """The same data in either server: an experiment, a run with a long history, and RUNS runs of 5 params and 5
    metrics each. Returns what the timed calls need."""
    client = Client(port, token)
    experiment_id = client.call("POST", "experiments/create", {"name": f"bench-{uuid.uuid4().hex[:8]}"})[0][
        "experiment_id"
    ]
    history_run = client.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 1})[0]["run"]
    history_id = history_run["info"]["run_id"]
    for start in range(0, HISTORY, 1000):
        metrics = [{"key": "h", "value": i * 0.5, "timestamp": 1000 + i, "step": i} for i in range(start, start + 1000)]
        client.call("POST", "runs/log-batch", {"run_id": history_id, "metrics": metrics})

    def make_runs(chunk: range) -> None:
        own = Client(port, token)
        for index in chunk:
            run = own.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 10_000 + index})[0]
            run_id = run["run"]["info"]["run_id"]
            own.call(
                "POST",
                "runs/log-batch",
                {
                    "run_id": run_id,
                    "params": [{"key": f"p{k}", "value": str((index + k) % 7)} for k in range(5)],
                    "metrics": [
                        {
                            "key": f"m{k}",
                            "value": ((index * 7919 + k * 104729) % 1000) / 1000,
                            "timestamp": 1,
                            "step": 0,
                        }
                        for k in range(5)
                    ],
                },
            )

    chunks = [range(start, RUNS, SEED_THREADS) for start in range(SEED_THREADS)]
    started = time.monotonic()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(make_runs, chunks))
    print(f"    seeded {RUNS} runs in {time.monotonic() - started:.0f} s", flush=True)
    batch_run = client.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 2})[0]["run"]
    return {"experiment_id": experiment_id, "history_id": history_id, "batch_id": batch_run["info"]["run_id"]}


def measure(port: int, token: str | None, seeded: dict) -> dict[str, float]:
    """Median seconds of each timed call."""
    client = Client(port, token)
    timings: dict[str, list[float]] = {"log-batch 1000 metrics": [], "history": [], "search": []}
    for repetition in range(REPEAT):
        metrics = [
            {"key": f"b{i % 10}", "value": i / 3, "timestamp": 5000 + repetition, "step": repetition * 1000 + i}
            for i in range(1000)
        ]
        timings["log-batch 1000 metrics"].append(
            client.call("POST", "runs/log-batch", {"run_id": seeded["batch_id"], "metrics": metrics})[1]
        )
        answer, elapsed = client.call(
            "GET", "metrics/get-history", query=f"run_id={seeded['history_id']}&metric_key=h&max_results=25000"
        )
        assert len(answer["metrics"]) == HISTORY, len(answer["metrics"])
        timings["history"].append(elapsed)
        body = {
            "experiment_ids": [seeded["experiment_id"]],
            "filter": "metrics.m1 > 0.5",
            "order_by": ["metrics.m1 DESC"],
            "max_results": 100,
        }
        answer, elapsed = client.call("POST", "runs/search", body)
        assert answer.get("runs"), "the search found nothing"
        timings["search"].append(elapsed)
    return {name: statistics.median(values) for name, values in timings.items()}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def bench_backend(backend: str, venv: Path, postgres: Postgres | None) -> None:
    """One server at a time, so that neither competes with the other for the two cores."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{backend}-"))
    (workdir / "registry").mkdir()
    databases = []
    mlflow_process = None
    registry = None
    try:
        if backend == "postgres":
            registry_db, mlflow_db = postgres.create_database(), postgres.create_database()
            databases = [registry_db, mlflow_db]
            mlflow_uri = f"postgresql+psycopg2://{postgres.user}@{postgres.host}:{postgres.port}/{mlflow_db}"
            registry = Server(
                data_dir=workdir / "registry",
                database_url=postgres.url(registry_db),
                database_name=registry_db,
                WEB_CONCURRENCY="1",
                LOG_LEVEL="WARNING",
            )
        else:
            mlflow_uri = f"sqlite:///{workdir / 'mlflow.sqlite3'}"
            registry = Server(data_dir=workdir / "registry", WEB_CONCURRENCY="1", LOG_LEVEL="WARNING")

        print(f"\n== {backend}: MLflow", flush=True)
        mlflow_process, mlflow_port = start_mlflow(venv, mlflow_uri, workdir)
        mlflow_figures = measure(mlflow_port, None, seed(mlflow_port, None))
        os.killpg(mlflow_process.pid, 15)
        mlflow_process.wait(timeout=60)
        mlflow_process = None

        print(f"== {backend}: Registry", flush=True)
        registry.start()
        token = register_and_login(registry.port, "bench")["access"]
        registry_figures = measure(registry.port, token, seed(registry.port, token))

        print(f"\n[figures] {backend}, {RUNS} runs, {HISTORY}-point history, median of {REPEAT}")
        print(f"    {'call':<30}{'MLflow':>10}{'Registry':>10}{'ratio':>8}")
        for name, label in [
            ("log-batch 1000 metrics", "log-batch, 1000 metrics"),
            ("history", f"get-history, {HISTORY} points"),
            ("search", f"runs/search over {RUNS} runs"),
        ]:
            theirs, ours = mlflow_figures[name], registry_figures[name]
            print(f"    {label:<30}{theirs * 1000:>8.1f}ms{ours * 1000:>8.1f}ms{theirs / ours:>7.1f}x", flush=True)
    except Exception:
        print(f"---- MLflow log tail:\n{_tail(workdir / 'mlflow.log')}")
        print(f"---- Registry log tail:\n{_tail(registry.log_path)}")
        raise
    finally:
        if mlflow_process is not None:
            os.killpg(mlflow_process.pid, 15)
            mlflow_process.wait(timeout=60)
        if registry is not None and registry.process is not None:
            registry.stop()
        for name in databases:
            postgres.drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    venv = mlflow_venv()
    for backend in BACKENDS:
        postgres = None
        if backend == "postgres":
            postgres = Postgres.from_env()
            if not postgres.is_up():
                print("\nPostgreSQL does not answer: skipping it.")
                continue
        bench_backend(backend, venv, postgres)


if __name__ == "__main__":
    main()
