"""Registry beside MLflow's own tracking server, on the same data and the same backend, one worker process each.

`make bench-mlflow` runs this. It installs the `mlflow` server package (pinned below) in a virtualenv of its own
outside the repository, then for each backend (SQLite, then PostgreSQL when it answers) starts both servers, loads the
same data into each through MLflow's REST API and times each server's answers with a plain keep-alive HTTP client (the
MLflow client itself costs more than the difference being measured). It prints the figures and the ratios.

Both servers are loaded first, one at a time (neither competes with the other for the two cores while the other
loads), then timed turn about, call by call, so that a change in the machine's load during the run (it is shared)
weighs on both alike.

With `--points N` (or BENCH_POINTS=N, as in `make bench-mlflow BENCH_POINTS=10000000`) it then checks that Registry's
reads do not slow down as the metric history grows: it times runs/search, get-run, the REST API's experiment list
(whose `results` are the latest metrics) and get-history on the data as loaded, adds metric points with SQL until the
point table holds N (spread over the runs searched, their latest values kept consistent), times the same calls again
and prints both side by side.

MLflow 3's logged models and datasets are loaded the same way in both servers: every run logs one dataset input
(`runs/log-inputs`, one of DATASETS, its `mlflow.data.context` tag `training` for half the runs), and BENCH_MODELS
logged models (`POST logged-models`, params and tags, their source runs spread over the runs) are made after the runs.
The timed calls then include `logged-models/search` (filters on a param, and on the name and a tag, each with an
order) and `runs/search` filtered on `datasets.name` and on `datasets.context`, printed in a table of their own.

Settings (environment): BENCH_RUNS (runs searched, default 10000), BENCH_HISTORY (points in the history read, default
10000), BENCH_MODELS (logged models, default 2000), BENCH_REPEAT (timed repetitions, median reported, default 15: a
shared machine is noisy), BENCH_BACKENDS (default "sqlite,postgres"), BENCH_POINTS (default 0: no growth check),
PG_HOST, PG_PORT, PG_USER (as the system tests).
"""

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from systemtests.harness import Postgres, Server, free_port, register_and_login  # noqa: E402
from systemtests.test_artifacts import personal_access_token  # noqa: E402

MLFLOW_SERVER = ["mlflow==3.17.2", "psycopg2-binary==2.9.13"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "registry-bench"
RUNS = int(os.environ.get("BENCH_RUNS", "10000"))
HISTORY = int(os.environ.get("BENCH_HISTORY", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
POINTS = int(os.environ.get("BENCH_POINTS", "0"))
MODELS = int(os.environ.get("BENCH_MODELS", "2000"))
SEED_THREADS = 4
# Each run logs one of these: run i the dataset i % 5, in the context `training` when i is even, `evaluation` if not.
DATASETS = [f"digits-{k}" for k in range(5)]
STAGES = ["dev", "staging", "prod"]


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
        """An MLflow call (`runs/search`), or a call to Registry's own REST API when `path` starts with a slash."""
        url = (path if path.startswith("/") else f"/api/2.0/mlflow/{path}") + (f"?{query}" if query else "")
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


def start_mlflow(
    venv: Path, backend_uri: str, workdir: Path, artifacts: list[str] | None = None
) -> tuple[subprocess.Popen, int]:
    """MLflow's server on a free port; `artifacts` replaces its default artifact options (a local root), as
    `["--serve-artifacts", "--artifacts-destination", folder]` does for its artifact proxy."""
    port = free_port()
    log = open(workdir / "mlflow.log", "w")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(
        [
            str(venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            backend_uri,
            *(artifacts if artifacts is not None else ["--default-artifact-root", str(workdir / "artifacts")]),
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
    # Not left running: the caller has no process to stop yet.
    os.killpg(process.pid, 9)
    process.wait(timeout=10)
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

    def make_runs(chunk: range) -> list[tuple[int, str]]:
        own = Client(port, token)
        made = []
        for index in chunk:
            run = own.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 10_000 + index})[0]
            run_id = run["run"]["info"]["run_id"]
            made.append((index, run_id))
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
            own.call("POST", "runs/log-inputs", {"run_id": run_id, "datasets": [dataset_input(index)]})
        return made

    def make_models(chunk: range) -> None:
        own = Client(port, token)
        for index in chunk:
            own.call("POST", "logged-models", logged_model(experiment_id, index, run_ids[index * RUNS // MODELS]))

    # Each dataset stored once first: MLflow's server fails a log-inputs that stores a dataset another one is storing.
    first = client.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 3})[0]["run"]
    datasets = [dataset_input(index) for index in range(len(DATASETS))]
    client.call("POST", "runs/log-inputs", {"run_id": first["info"]["run_id"], "datasets": datasets})
    chunks = [range(start, RUNS, SEED_THREADS) for start in range(SEED_THREADS)]
    started = time.monotonic()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        run_ids = dict(pair for made in pool.map(make_runs, chunks) for pair in made)
    print(f"    seeded {RUNS} runs, each with a dataset input, in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(make_models, [range(start, MODELS, SEED_THREADS) for start in range(SEED_THREADS)]))
    print(f"    seeded {MODELS} logged models in {time.monotonic() - started:.0f} s", flush=True)
    batch_run = client.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 2})[0]["run"]
    return {"experiment_id": experiment_id, "history_id": history_id, "batch_id": batch_run["info"]["run_id"]}


def dataset_input(index: int) -> dict:
    """The dataset input of run `index`: a name, a digest and a schema as `mlflow.log_input` sends them."""
    name = DATASETS[index % len(DATASETS)]
    schema = {"mlflow_colspec": [{"type": "double", "name": f"x{k}", "required": True} for k in range(4)]}
    return {
        "tags": [{"key": "mlflow.data.context", "value": "training" if index % 2 == 0 else "evaluation"}],
        "dataset": {
            "name": name,
            "digest": uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8],
            "source_type": "local",
            "source": json.dumps({"uri": f"/data/{name}.csv"}),
            "schema": json.dumps(schema),
            "profile": json.dumps({"num_rows": 1000 + index % len(DATASETS)}),
        },
    }


def logged_model(experiment_id: str, index: int, source_run_id: str) -> dict:
    """Logged model `index`: one of 20 names, 2 params and 2 tags, made by the run given."""
    return {
        "experiment_id": experiment_id,
        "name": f"model-{index % 20}",
        "model_type": "sklearn",
        "source_run_id": source_run_id,
        "params": [{"key": "alpha", "value": str(index % 7)}, {"key": "layers", "value": str(index % 5)}],
        "tags": [{"key": "stage", "value": STAGES[index % 3]}, {"key": "team", "value": f"t{index % 4}"}],
    }


SEARCH = {"filter": "metrics.m1 > 0.5", "order_by": ["metrics.m1 DESC"], "max_results": 100}
# MLflow 3's logged models and datasets: (label, path, body without experiment_ids, the answer's list).
MODEL_CALLS = {
    "models by param": (
        "logged-models/search, params.alpha = '3', order by name",
        "logged-models/search",
        {"filter": "params.alpha = '3'", "order_by": [{"field_name": "name", "ascending": True}], "max_results": 100},
        "models",
    ),
    "models by name and tag": (
        "logged-models/search, name and tags.stage, newest first",
        "logged-models/search",
        {
            "filter": "name = 'model-7' AND tags.stage = 'prod'",
            "order_by": [{"field_name": "creation_timestamp", "ascending": False}],
            "max_results": 100,
        },
        "models",
    ),
    "runs by dataset name": (
        f"runs/search, datasets.name = '{DATASETS[3]}'",
        "runs/search",
        {"filter": f"datasets.name = '{DATASETS[3]}'", "max_results": 100},
        "runs",
    ),
    "runs by dataset context": (
        "runs/search, datasets.context = 'training'",
        "runs/search",
        {"filter": "datasets.context = 'training'", "max_results": 100},
        "runs",
    ),
}
CALLS = ["log-batch 1000 metrics", "history", "search", *MODEL_CALLS]


def measure_once(client: Client, seeded: dict, repetition: int) -> dict[str, float]:
    """Seconds of each timed call, once."""
    figures = {}
    metrics = [
        {"key": f"b{i % 10}", "value": i / 3, "timestamp": 5000 + repetition, "step": repetition * 1000 + i}
        for i in range(1000)
    ]
    figures["log-batch 1000 metrics"] = client.call(
        "POST", "runs/log-batch", {"run_id": seeded["batch_id"], "metrics": metrics}
    )[1]
    figures["history"] = _history(client, seeded)
    body = {"experiment_ids": [seeded["experiment_id"]], **SEARCH}
    answer, figures["search"] = client.call("POST", "runs/search", body)
    assert answer.get("runs"), "the search found nothing"
    for call, (_, path, search, found) in MODEL_CALLS.items():
        answer, figures[call] = client.call("POST", path, {"experiment_ids": [seeded["experiment_id"]], **search})
        assert answer.get(found), f"{call} found nothing"
    return figures


def _history(client: Client, seeded: dict) -> float:
    query = f"run_id={seeded['history_id']}&metric_key=h&max_results=25000"
    answer, elapsed = client.call("GET", "metrics/get-history", query=query)
    assert len(answer["metrics"]) == HISTORY, len(answer["metrics"])
    return elapsed


def measure(clients: dict[str, Client], seeded: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Median seconds of each timed call on each server, the servers called turn about."""
    timings = {name: {call: [] for call in CALLS} for name in clients}
    for repetition in range(REPEAT):
        for name, client in clients.items():
            for call, elapsed in measure_once(client, seeded[name], repetition).items():
                timings[name][call].append(elapsed)
    return {name: {call: statistics.median(v) for call, v in calls.items()} for name, calls in timings.items()}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def settle(postgres: Postgres, *dbnames: str) -> None:
    """What autovacuum and the checkpointer do soon after a load, done at once, so that the timing depends neither on
    whether they have run yet nor on their running during it: statistics for the planner (a fresh table is planned as
    if nearly empty), the visibility map (without it an index-only scan visits the table), the dead rows of updated
    runs, and the load's dirty pages written out."""
    for dbname in dbnames:
        with postgres.connect(dbname, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    with postgres.connect(autocommit=True) as connection:
        try:
            connection.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("    (CHECKPOINT needs a superuser or pg_checkpoint: left to the checkpointer)", flush=True)


class PointTable:
    """Registry's metric tables on one backend, written with SQL (the API would take hours for 10 million points)."""

    def __init__(self, backend: str, postgres: Postgres | None, dbname: str | None, workdir: Path):
        self.backend = backend
        self.postgres = postgres
        self.dbname = dbname
        self.sqlite_path = workdir / "registry" / "db.sqlite3"

    def run(self, *statements: str) -> list[tuple]:
        """Run the statements in one transaction; the rows of the last."""
        if self.backend == "postgres":
            with self.postgres.connect(self.dbname) as connection:
                for statement in statements:
                    cursor = connection.execute(statement)
                return cursor.fetchall() if cursor.description else []
        connection = sqlite3.connect(self.sqlite_path, timeout=60, isolation_level=None)
        try:
            connection.execute("PRAGMA cache_size = -500000")
            connection.execute("BEGIN IMMEDIATE")
            for statement in statements:
                cursor = connection.execute(statement)
            rows = cursor.fetchall()
            connection.execute("COMMIT")
            return rows
        finally:
            connection.close()

    def count(self) -> int:
        return self.run("SELECT count(*) FROM tracking_metricpoint")[0][0]

    def grow(self, *, project_id: int, points: int) -> None:
        """Add points to the runs of the project that have metric m0 (the runs searched) until the point table holds
        about `points`: each such run gets the same number of steps of m0 to m4, after its stored ones, and the latest
        value of each key moves to its last step, as the API would have moved it."""
        runs = (
            "(SELECT experiment_id AS id FROM tracking_latestmetric WHERE key = 'm0' AND experiment_id IN "
            f"(SELECT id FROM experiments_experiment WHERE project_id = {int(project_id)})) AS r"
        )
        run_count = self.run(f"SELECT count(*) FROM {runs}")[0][0]
        steps = max(1, (points - self.count()) // (run_count * 5))
        if self.backend == "postgres":
            series = f"generate_series(0, {steps - 1}) AS s(s)"
            before = ["SET session_replication_role = replica"]  # No per-row FK check: every run exists.
            with_steps = ""
        else:
            series = "steps AS s"
            before = []
            last = steps - 1
            with_steps = f"WITH RECURSIVE steps(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM steps WHERE s < {last}) "
        # Spread over [0, 1) like the loaded values; each factor reduced first, so that no product leaves 32 bits.
        value = "(((r.id % 1000) * 7919 + ((k.k + 5 * {s}) % 1000) * 104729) % 1000) / 1000.0"
        keys = "(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) AS k"
        columns = 'experiment_id, key, step, "timestamp", value, is_nan'
        history = (
            f"{with_steps}INSERT INTO tracking_metricpoint ({columns}) "
            f"SELECT r.id, 'm' || k.k, 1 + s.s, 3, {value.format(s='s.s')}, false FROM {runs}, {keys}, {series}"
        )
        latest = (
            f"INSERT INTO tracking_latestmetric ({columns}) "
            f"SELECT r.id, 'm' || k.k, {steps}, 3, {value.format(s=steps - 1)}, false FROM {runs}, {keys} WHERE true "
            'ON CONFLICT (experiment_id, key) DO UPDATE SET step = excluded.step, "timestamp" = excluded."timestamp", '
            "value = excluded.value, is_nan = excluded.is_nan"
        )
        self.run(*before, history, latest)
        if self.backend == "postgres":
            settle(self.postgres, self.dbname)


GROWTH_CALLS = ["search", "get-run", "experiment list", "history"]


def measure_reads(client: Client, seeded: dict, run_id: str) -> dict[str, float]:
    """Median seconds of each read whose time must not grow with the history."""
    timings: dict[str, list[float]] = {call: [] for call in GROWTH_CALLS}
    for _ in range(REPEAT):
        body = {"experiment_ids": [seeded["experiment_id"]], **SEARCH}
        answer, elapsed = client.call("POST", "runs/search", body)
        assert answer.get("runs"), "the search found nothing"
        timings["search"].append(elapsed)
        answer, elapsed = client.call("GET", "runs/get", query=f"run_id={run_id}")
        assert answer["run"]["data"]["metrics"], "the run has no metrics"
        timings["get-run"].append(elapsed)
        answer, elapsed = client.call("GET", "/experiments/", query="limit=20")
        assert len(answer) == 20 and answer[0]["results"] is not None, answer
        timings["experiment list"].append(elapsed)
        timings["history"].append(_history(client, seeded))
    return {call: statistics.median(values) for call, values in timings.items()}


def check_growth(backend: str, client: Client, seeded: dict, table: PointTable, points: int) -> None:
    """Registry's reads with the point table as loaded, then with `points` points in it."""
    first = client.call("POST", "runs/search", {"experiment_ids": [seeded["experiment_id"]], **SEARCH})[0]
    run_id = first["runs"][0]["info"]["run_id"]
    small_count = table.count()
    small = measure_reads(client, seeded, run_id)
    print(f"\n== {backend}: adding metric points up to {points:,}", flush=True)
    started = time.monotonic()
    table.grow(project_id=int(seeded["experiment_id"]), points=points)
    large_count = table.count()
    print(f"    {large_count - small_count:,} points added in {time.monotonic() - started:.0f} s", flush=True)
    large = measure_reads(client, seeded, run_id)
    print(f"\n[growth] {backend}, Registry, median of {REPEAT}")
    print(f"    {'call':<30}{f'{small_count:,} pts':>16}{f'{large_count:,} pts':>16}{'ratio':>8}")
    labels = {
        "search": "runs/search, filter + order",
        "get-run": "runs/get",
        "experiment list": "GET /experiments/?limit=20",
        "history": f"get-history, {HISTORY} points",
    }
    for call in GROWTH_CALLS:
        before, after = small[call], large[call]
        figures = f"{before * 1000:>14.1f}ms{after * 1000:>14.1f}ms{after / before:>7.2f}x"
        print(f"    {labels[call]:<30}{figures}", flush=True)


def bench_backend(backend: str, venv: Path, postgres: Postgres | None, points: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{backend}-"))
    (workdir / "registry").mkdir()
    databases = []
    mlflow_process = None
    registry = None
    try:
        registry, mlflow_uri, databases = two_servers(backend, postgres, workdir)
        registry_db = databases[0] if databases else None

        print(f"\n== {backend}: loading MLflow", flush=True)
        mlflow_process, mlflow_port = start_mlflow(venv, mlflow_uri, workdir)
        mlflow_seeded = seed(mlflow_port, None)

        print(f"== {backend}: loading Registry", flush=True)
        registry.start()
        # A personal access token, as MLflow's clients use: a JWT expires after 15 minutes, less than a slow load takes.
        token = personal_access_token(registry.port, register_and_login(registry.port, "bench")["access"])
        registry_seeded = seed(registry.port, token)

        if backend == "postgres":
            settle(postgres, *databases)  # Both servers alike.

        print(f"== {backend}: timing both, turn about", flush=True)
        clients = {"MLflow": Client(mlflow_port, None), "Registry": Client(registry.port, token)}
        figures = measure(clients, {"MLflow": mlflow_seeded, "Registry": registry_seeded})
        os.killpg(mlflow_process.pid, 15)
        mlflow_process.wait(timeout=60)
        mlflow_process = None

        print(f"\n[figures] {backend}, {RUNS} runs, {HISTORY}-point history, median of {REPEAT}")
        print(f"    {'call':<30}{'MLflow':>10}{'Registry':>10}{'ratio':>8}")
        for name, label in [
            ("log-batch 1000 metrics", "log-batch, 1000 metrics"),
            ("history", f"get-history, {HISTORY} points"),
            ("search", f"runs/search over {RUNS} runs"),
        ]:
            theirs, ours = figures["MLflow"][name], figures["Registry"][name]
            print(f"    {label:<30}{theirs * 1000:>8.1f}ms{ours * 1000:>8.1f}ms{theirs / ours:>7.1f}x", flush=True)
        print(f"\n[models and datasets] {backend}, {MODELS} logged models, {RUNS} runs with a dataset each")
        print(f"    {'call':<60}{'MLflow':>10}{'Registry':>10}{'ratio':>8}")
        for name, (label, *_) in MODEL_CALLS.items():
            theirs, ours = figures["MLflow"][name], figures["Registry"][name]
            print(f"    {label:<60}{theirs * 1000:>8.1f}ms{ours * 1000:>8.1f}ms{theirs / ours:>7.1f}x", flush=True)

        if points:
            database = PointTable(backend, postgres, registry_db if backend == "postgres" else None, workdir)
            check_growth(backend, clients["Registry"], registry_seeded, database, points)
    except Exception:
        print(f"---- MLflow log tail:\n{_tail(workdir / 'mlflow.log')}")
        print(f"---- Registry log tail:\n{_tail(registry.log_path)}")
        raise
    finally:
        stop_all(mlflow_process, registry, postgres, databases, workdir)


def two_servers(backend: str, postgres: Postgres | None, workdir: Path) -> tuple[Server, str, list[str]]:
    """Registry's server (not started yet, one worker), MLflow's backend store URI, and the databases made for them
    on PostgreSQL (Registry's first), each on a new database of `backend`."""
    if backend != "postgres":
        registry = Server(data_dir=workdir / "registry", WEB_CONCURRENCY="1", LOG_LEVEL="WARNING")
        return registry, f"sqlite:///{workdir / 'mlflow.sqlite3'}", []
    registry_db, mlflow_db = postgres.create_database(), postgres.create_database()
    registry = Server(
        data_dir=workdir / "registry",
        database_url=postgres.url(registry_db),
        database_name=registry_db,
        WEB_CONCURRENCY="1",
        LOG_LEVEL="WARNING",
    )
    mlflow_uri = f"postgresql+psycopg2://{postgres.user}@{postgres.host}:{postgres.port}/{mlflow_db}"
    return registry, mlflow_uri, [registry_db, mlflow_db]


def stop_all(mlflow_process, registry: Server | None, postgres: Postgres | None, databases: list, workdir: Path):
    """Stop both servers, drop their databases and remove the work folder, whatever state a run left them in."""
    if mlflow_process is not None:
        os.killpg(mlflow_process.pid, 15)
        mlflow_process.wait(timeout=60)
    if registry is not None and registry.process is not None:
        registry.stop()
    for name in databases:
        postgres.drop_database(name)
    shutil.rmtree(workdir, ignore_errors=True)


def each_backend(bench) -> None:
    """`bench(backend, venv, postgres)` for each of BACKENDS; PostgreSQL is skipped, saying so, when it does not
    answer."""
    venv = mlflow_venv()
    for backend in BACKENDS:
        postgres = None
        if backend == "postgres":
            postgres = Postgres.from_env()
            if not postgres.is_up():
                print("\nPostgreSQL does not answer: skipping it.")
                continue
        bench(backend, venv, postgres)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--points", type=int, default=POINTS, help="then time Registry's reads with this many metric points stored"
    )
    points = parser.parse_args().points
    each_backend(lambda backend, venv, postgres: bench_backend(backend, venv, postgres, points))


if __name__ == "__main__":
    main()
