"""Artifact uploads and downloads through MLflow's client: Registry beside MLflow's own artifact proxy, and a copy.

`make bench-artifacts` runs this. It starts Registry as `make run` serves it (gunicorn.conf.py, its default two sync
workers, the filesystem artifact store in a temporary DATA_DIR, SQLite) and MLflow's server (the virtualenv that
`make bench-mlflow` installs, SQLite, `--serve-artifacts` with its `--artifacts-destination` in a temporary folder),
then times `MlflowClient().log_artifact` and `download_artifacts` of files of 1 MiB, 100 MiB and 1 GiB against each,
turn about (the first server alternates), run by the full MLflow client of the system tests (its virtualenv,
systemtests/mlflow-full-requirements.txt, one client process per server, started once). The floor is
`shutil.copyfile` of the same file in the same temporary folder, timed the same way. While a file moves, a thread
samples the resident memory (VmRSS) of every process of the server's session every 50 ms: the growth reported is the
peak of their sum minus the sum just before.

Then, with the same two clients, it times MLflow 3's logged models (issue 25): `mlflow.sklearn.log_model` of a small
fitted LogisticRegression in a new run, with its pip requirements inferred as by default (the client loads the model in
a subprocess of its own to find them) and given, and `mlflow.pyfunc.load_model` of the model logged, by
`runs:/<run_id>/model` and by `models:/<model_id>`, the servers turn about, after one untimed round on each.

Everything is on 127.0.0.1 and in one temporary folder (on the disk of TMPDIR), removed at the end with both servers,
whatever happens. The report is printed and written to bench/results/ (ignored by git).

Settings (environment): BENCH_ARTIFACT_SIZES (MiB, default "1,100,1024"; empty for none), BENCH_ARTIFACT_REPEAT
(repetitions of every size; by default 9 below 100 MiB, 5 below 1 GiB, 3 from 1 GiB), BENCH_MODEL_REPEAT (repetitions
of the logged models' calls, default 9; 0 for none), BENCH_TRANSFER_TIMEOUT (seconds one transfer may take, default
900).
"""

import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.mlflow_bench import MLFLOW_SERVER, mlflow_venv, start_mlflow  # noqa: E402
from systemtests.harness import Server, client_python, register_and_login  # noqa: E402
from systemtests.test_artifacts import REQUIREMENTS, personal_access_token  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CLIENT = Path(__file__).resolve().parent / "artifacts_client.py"
MIB = 1024 * 1024
SIZES = [int(size) for size in os.environ.get("BENCH_ARTIFACT_SIZES", "1,100,1024").split(",") if size.strip()]
REPEAT = int(os.environ.get("BENCH_ARTIFACT_REPEAT", "0"))
MODEL_REPEAT = int(os.environ.get("BENCH_MODEL_REPEAT", "9"))
TRANSFER_TIMEOUT = float(os.environ.get("BENCH_TRANSFER_TIMEOUT", "900"))
CLIENT_START_TIMEOUT = 120
SAMPLE_SECONDS = 0.05
# As `make run` serves Registry: gunicorn.conf.py's default number of workers.
REGISTRY_WORKERS = "2"
SERVERS = ["MLflow", "Registry"]
DIRECTIONS = ["upload", "download"]
MODEL_CALLS = {
    "log": "`mlflow.sklearn.log_model`, requirements inferred",
    "log-given": "`mlflow.sklearn.log_model`, requirements given",
    "load-run": '`mlflow.pyfunc.load_model("runs:/<run_id>/model")`',
    "load-model": '`mlflow.pyfunc.load_model("models:/<model_id>")`',
}


def repetitions(size_mib: int) -> int:
    if REPEAT:
        return REPEAT
    return 9 if size_mib < 100 else 5 if size_mib < 1024 else 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# Memory of a server's processes
# ---------------------------------------------------------------------------------------------------------------------


def session_pids(session: int) -> list[int]:
    """The processes of a session: a server started in a session of its own, with all its workers."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The fields after the command name (which may hold spaces and parentheses): state, ppid, pgrp, session.
        if int(stat.rsplit(")", 1)[1].split()[3]) == session:
            pids.append(int(entry.name))
    return pids


def resident_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:  # A process that ended since.
            continue
    return total


class PeakMemory:
    """The growth of a session's summed resident memory while the block runs: its peak minus its value before."""

    def __init__(self, session: int):
        self.session = session
        self.growth = 0
        self._stop = threading.Event()

    def __enter__(self) -> "PeakMemory":
        self._pids = session_pids(self.session)
        self._before = self._peak = resident_bytes(self._pids)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._peak = max(self._peak, resident_bytes(self._pids))

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._peak = max(self._peak, resident_bytes(self._pids))
        self.growth = self._peak - self._before
        self.peak = self._peak


# ---------------------------------------------------------------------------------------------------------------------
# MLflow's client, one process per server
# ---------------------------------------------------------------------------------------------------------------------


class Client:
    """bench/artifacts_client.py in the full client's virtualenv, talking to one server; every answer awaited with a
    deadline."""

    def __init__(self, python: Path, port: int, token: str | None, workdir: Path, name: str):
        home = workdir / f"home-{name}"
        home.mkdir()
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "TMPDIR": str(workdir),
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            # A failure is reported, not retried for minutes.
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(TRANSFER_TIMEOUT)),
        }
        if token:
            environment["MLFLOW_TRACKING_TOKEN"] = token
        self.log_path = workdir / f"client-{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [str(python), str(CLIENT)],
            cwd=home,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        self.run_id = self._answer(CLIENT_START_TIMEOUT)["run_id"]

    def _answer(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"MLflow's client did not answer within {timeout:.0f} s; see {self.log_path}")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"MLflow's client exited:\n{tail(self.log_path)}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"MLflow's client failed: {answer['error']}")
        return answer

    def call(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer(TRANSFER_TIMEOUT)

    def time(self, **command) -> float:
        return self.call(**command)["seconds"]

    def close(self) -> None:
        try:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            stop_group(self.process)
        self._log.close()


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to a process started in a session of its own, and its children; SIGKILL after a minute."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------------------------------
# The measurement
# ---------------------------------------------------------------------------------------------------------------------


def write_file(path: Path, size: int) -> None:
    """`size` random bytes (nothing on the way can compress them)."""
    block = 8 * MIB
    with open(path, "wb") as file:
        for start in range(0, size, block):
            file.write(os.urandom(min(block, size - start)))


def measure_size(size_mib: int, clients: dict[str, Client], sessions: dict[str, int], workdir: Path) -> dict:
    """Seconds of each transfer and of each copy, and the memory growth of each server, for one size."""
    size = size_mib * MIB
    source = workdir / "files" / f"file-{size_mib}mib.bin"
    write_file(source, size)
    seconds = {name: {direction: [] for direction in DIRECTIONS} for name in SERVERS}
    seconds["copy"] = []
    growth = {name: {direction: [] for direction in DIRECTIONS} for name in SERVERS}
    peak = dict.fromkeys(SERVERS, 0)
    count = repetitions(size_mib)
    for repetition in range(count):
        order = SERVERS if repetition % 2 == 0 else SERVERS[::-1]
        for name in order:
            folder = f"r{repetition}"
            with PeakMemory(sessions[name]) as memory:
                seconds[name]["upload"].append(clients[name].time(op="upload", file=str(source), to=folder))
            growth[name]["upload"].append(memory.growth)
            peak[name] = max(peak[name], memory.peak)
            into = workdir / "downloads" / f"{name}-{size_mib}-{repetition}"
            with PeakMemory(sessions[name]) as memory:
                seconds[name]["download"].append(
                    clients[name].time(op="download", path=f"{folder}/{source.name}", into=str(into), size=size)
                )
            growth[name]["download"].append(memory.growth)
            peak[name] = max(peak[name], memory.peak)
            shutil.rmtree(into)
        copy = workdir / "copies" / source.name
        started = time.perf_counter()
        shutil.copyfile(source, copy)
        seconds["copy"].append(time.perf_counter() - started)
        copy.unlink()
        log(
            f"    {size_mib} MiB, {repetition + 1}/{count}: "
            + ", ".join(
                f"{name} {seconds[name]['upload'][-1]:.2f} s up, {seconds[name]['download'][-1]:.2f} s down"
                for name in SERVERS
            )
            + f", copy {seconds['copy'][-1]:.2f} s"
        )
    source.unlink()
    return {
        "bytes": size,
        "repetitions": count,
        "seconds": seconds,
        "median": {
            **{name: {d: statistics.median(seconds[name][d]) for d in DIRECTIONS} for name in SERVERS},
            "copy": statistics.median(seconds["copy"]),
        },
        "memory_growth": {name: {d: max(growth[name][d]) for d in DIRECTIONS} for name in SERVERS},
        "memory_peak": peak,
    }


def warm_up(clients: dict[str, Client], workdir: Path) -> None:
    """One small file up and down each server, untimed: the first transfer of a process pays its imports and its first
    connections, which no later one does."""
    source = workdir / "files" / "warm-up.bin"
    write_file(source, 64 * 1024)
    for name, client in clients.items():
        client.time(op="upload", file=str(source), to="warm-up")
        into = workdir / "downloads" / f"warm-up-{name}"
        client.time(op="download", path=f"warm-up/{source.name}", into=str(into), size=64 * 1024)
        shutil.rmtree(into)
    source.unlink()


def model_round(client: Client) -> dict[str, float]:
    """Seconds of each logged-model call on one server: two models logged, the second loaded by run and by id."""
    seconds = {"log": client.time(op="log_model", infer=True)}
    logged = client.call(op="log_model", infer=False)
    seconds["log-given"] = logged["seconds"]
    seconds["load-run"] = client.time(op="load_model", uri=f"runs:/{logged['run_id']}/model")
    seconds["load-model"] = client.time(op="load_model", uri=f"models:/{logged['model_id']}")
    return seconds


def measure_models(clients: dict[str, Client]) -> dict:
    """Seconds of every logged-model call on each server, turn about (the first server alternates), after one untimed
    round on each: the first pays the imports of scikit-learn and of MLflow's model flavors."""
    for client in clients.values():
        model_round(client)
    seconds = {name: {call: [] for call in MODEL_CALLS} for name in SERVERS}
    for repetition in range(MODEL_REPEAT):
        for name in SERVERS if repetition % 2 == 0 else SERVERS[::-1]:
            for call, value in model_round(clients[name]).items():
                seconds[name][call].append(value)
        log(
            f"    models, {repetition + 1}/{MODEL_REPEAT}: "
            + ", ".join(
                f"{name} " + " ".join(f"{seconds[name][call][-1]:.3f}" for call in MODEL_CALLS) for name in SERVERS
            )
        )
    median = {name: {call: statistics.median(seconds[name][call]) for call in MODEL_CALLS} for name in SERVERS}
    return {"repetitions": MODEL_REPEAT, "seconds": seconds, "median": median}


def run(workdir: Path) -> dict:
    venv = mlflow_venv()
    python = client_python(REQUIREMENTS, "mlflow-full")
    for folder in ("registry", "mlflow-artifacts", "files", "downloads", "copies"):
        (workdir / folder).mkdir()
    mlflow_process = None
    registry = Server(data_dir=workdir / "registry", WEB_CONCURRENCY=REGISTRY_WORKERS, LOG_LEVEL="WARNING")
    clients: dict[str, Client] = {}
    try:
        log("Starting MLflow's server (--serve-artifacts) and Registry ...")
        mlflow_process, mlflow_port = start_mlflow(
            venv,
            f"sqlite:///{workdir / 'mlflow.sqlite3'}",
            workdir,
            ["--serve-artifacts", "--artifacts-destination", str(workdir / "mlflow-artifacts")],
        )
        registry.start()
        token = personal_access_token(registry.port, register_and_login(registry.port, "bench")["access"])
        clients["MLflow"] = Client(python, mlflow_port, None, workdir, "mlflow")
        clients["Registry"] = Client(python, registry.port, token, workdir, "registry")
        sessions = {"MLflow": mlflow_process.pid, "Registry": registry.pid}
        warm_up(clients, workdir)
        baseline = {name: resident_bytes(session_pids(session)) for name, session in sessions.items()}
        figures = {}
        for size_mib in SIZES:
            log(f"== {size_mib} MiB")
            figures[str(size_mib)] = measure_size(size_mib, clients, sessions, workdir)
        # A heap that grew during a smaller file may hold the next one without growing again: the growth over the
        # whole run shows what a server keeps.
        overall = {
            name: max((m["memory_peak"][name] for m in figures.values()), default=baseline[name]) - baseline[name]
            for name in SERVERS
        }
        result = {"sizes": figures, "baseline_rss": baseline, "run_growth": overall}
        if MODEL_REPEAT:
            log("== logged models")
            result["models"] = measure_models(clients)
        return result
    except Exception:
        log(f"---- MLflow log tail:\n{tail(workdir / 'mlflow.log')}")
        log(f"---- Registry log tail:\n{registry.log_tail()}")
        for name, client in clients.items():
            log(f"---- {name}'s client log tail:\n{tail(client.log_path)}")
        raise
    finally:
        for client in clients.values():
            client.close()
        if mlflow_process is not None:
            stop_group(mlflow_process)
        if registry.process is not None:
            registry.stop()


# ---------------------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------------------


def rate(size: int, seconds: float) -> str:
    return f"{size / MIB / seconds:,.0f}"


def megabytes(size: int) -> str:
    return f"{size / MIB:,.1f}"


def verdicts(figures: dict) -> list[str]:
    """Each of the issue's targets, met or not, on the figures of every size measured."""
    lines = []
    for label, check in [
        ("throughput at least MLflow's proxy's", lambda m, d: m["Registry"][d] <= m["MLflow"][d]),
        ("within 2x of a copy on the same disk", lambda m, d: m["Registry"][d] <= 2 * m["copy"]),
    ]:
        missed = [
            f"{size} MiB {direction}"
            for size, measured in figures.items()
            for direction in DIRECTIONS
            if not check(measured["median"], direction)
        ]
        lines.append(f"- {label}: " + ("met" if not missed else f"NOT met for {', '.join(missed)}"))
    largest = figures[max(figures, key=int)]
    growth = largest["memory_growth"]["Registry"]["upload"]
    lines.append(
        f"- Registry's memory growth under 50 MB during the {max(figures, key=int)} MiB upload: "
        + (f"met ({megabytes(growth)} MiB)" if growth < 50 * 1_000_000 else f"NOT met ({megabytes(growth)} MiB)")
    )
    return lines


def render(context: dict, result: dict) -> str:
    lines = ["# Artifacts: Registry beside MLflow's artifact proxy, through MLflow's client", ""]
    lines += [f"- {name}: {value}" for name, value in context.items() if value]
    if result["sizes"]:
        lines += render_transfers(result)
    if "models" in result:
        lines += render_models(result["models"])
    return "\n".join(lines) + "\n"


def render_transfers(result: dict) -> list[str]:
    figures = result["sizes"]
    lines = [
        "",
        "Median seconds and MiB/s of each transfer; ratios of median times (below 1.0: Registry is faster).",
        "",
    ]
    rows = []
    for size, measured in figures.items():
        median = measured["median"]
        for direction in DIRECTIONS:
            ours, theirs, copy = median["Registry"][direction], median["MLflow"][direction], median["copy"]
            rows.append(
                [
                    f"{size} MiB",
                    direction,
                    str(measured["repetitions"]),
                    f"{theirs:.3f}",
                    rate(measured["bytes"], theirs),
                    f"{ours:.3f}",
                    rate(measured["bytes"], ours),
                    f"{copy:.3f}",
                    rate(measured["bytes"], copy),
                    f"{ours / theirs:.2f}",
                    f"{ours / copy:.2f}",
                ]
            )
    header = ["size", "direction", "runs", "MLflow s", "MiB/s", "Registry s", "MiB/s", "copy s", "MiB/s"]
    lines += report.table([*header, "Registry/MLflow", "Registry/copy"], rows, right_from=2)
    lines += ["", "Peak growth of the server's resident memory (all its processes, MiB, the largest of the runs):", ""]
    rows = [
        [f"{size} MiB", direction] + [megabytes(measured["memory_growth"][name][direction]) for name in SERVERS]
        for size, measured in figures.items()
        for direction in DIRECTIONS
    ]
    rows.append(["whole run", "peak - after warm-up"] + [megabytes(result["run_growth"][name]) for name in SERVERS])
    rows.append(["before", "after warm-up (RSS)"] + [megabytes(result["baseline_rss"][name]) for name in SERVERS])
    lines += report.table(["size", "direction", *SERVERS], rows, right_from=2)
    lines += ["", "Targets (issue 24):", "", *verdicts(figures)]
    return lines


def render_models(models: dict) -> list[str]:
    """The logged models' calls: median seconds on each server, their ratio, and issue 25's target."""
    median = models["median"]
    lines = [
        "",
        f"Logged models through MLflow's client, median seconds of {models['repetitions']} (below 1.0: Registry is "
        "faster):",
        "",
    ]
    rows = [
        [label, f"{median['MLflow'][call]:.3f}", f"{median['Registry'][call]:.3f}"]
        + [f"{median['Registry'][call] / median['MLflow'][call]:.2f}"]
        for call, label in MODEL_CALLS.items()
    ]
    lines += report.table(["call", "MLflow s", "Registry s", "Registry/MLflow"], rows)
    slower = [label for call, label in MODEL_CALLS.items() if median["Registry"][call] > median["MLflow"][call]]
    verdict = "met" if not slower else f"NOT met for {', '.join(slower)}"
    lines += [
        "",
        "Target (issue 25):",
        "",
        f"- log_model and load_model at least as fast as MLflow's server: {verdict}",
    ]
    return lines


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so that the servers and the temporary folder are removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    workdir = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    free = shutil.disk_usage(workdir).free
    # The source, one stored copy per server and repetition, and a download or a copy at a time.
    needed = max((size * MIB * (2 * repetitions(size) + 3) for size in SIZES), default=0)
    if free < needed * 1.2:
        log(f"{workdir} has {free / 2**30:.1f} GiB free; this needs about {needed / 2**30:.1f} GiB.")
        shutil.rmtree(workdir, ignore_errors=True)
        return 1
    context = report.context()
    context["Registry"] = f"gunicorn.conf.py, {REGISTRY_WORKERS} sync workers, filesystem artifact store, SQLite"
    context["MLflow"] = f"{MLFLOW_SERVER[0]} server --serve-artifacts --workers 1, SQLite"
    context["client"] = "MLflow's full client (systemtests/mlflow-full-requirements.txt), one process per server"
    context["folder"] = f"{workdir} ({free / 2**30:.0f} GiB free)"
    started = time.monotonic()
    try:
        measured = run(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    context["took"] = f"{(time.monotonic() - started) / 60:.1f} min"
    text = render(context, measured)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"artifacts-{datetime.now(UTC):%Y%m%d-%H%M%S}.md"
    path.write_text(text)
    path.with_suffix(".json").write_text(json.dumps({"context": context, **measured}, indent=1))
    log(f"Written to {path.relative_to(ROOT)} and {path.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
