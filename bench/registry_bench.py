"""Registry's throughput under gunicorn, and how its list endpoints scale from 1k to 1M experiments.

    make bench                                   # the default: both parts, SQLite and PostgreSQL, 1k and 1M
    make bench BENCH_SIZES=1000,20000            # a quick run
    .venv/bin/python bench/registry_bench.py --help

Part 1, throughput: for each backend, a throwaway database with 1000 experiments per user (bench/seed.py THROUGHPUT)
served by gunicorn with the repository's gunicorn.conf.py and 2 workers on 127.0.0.1; `wrk -t2 -c16` (installed with
apt-get when missing and possible, else a load generator in Python, named in the report) sends `GET
/experiments/?limit=20`, `GET /experiments/{id}/` and `POST /experiments/` with a JWT from `POST /auth/token`, a few
seconds each, in interleaved rounds; the report gives the median over the rounds of requests per second, p50 and p99.

Part 2, scale: for each backend, a throwaway database grown to each size in turn (bench/seed.py SCALE: 1000 users, 2000
projects, a caller who owns 30 experiments and is a viewer of 3 projects, a wide caller who sees a tenth of all
experiments), and every list endpoint and filter timed in process (bench/inprocess.py): p50, p95, queries per request,
and the plan of the slowest query, beside each other for each size, with the ratio of the largest size to the smallest.

Throwaway databases only: PostgreSQL databases named `benchmark_*` on PG_HOST:PG_PORT as PG_USER (default
127.0.0.1:5432, postgres; trust auth), dropped afterwards, and SQLite files in a temporary folder; the developer's
var/db.sqlite3 is never opened. The report is printed and written to bench/results/ (ignored by git).

Every option also reads an environment variable (BENCH_SIZES, BENCH_BACKENDS, BENCH_PARTS, BENCH_REPEAT,
BENCH_BUDGET, BENCH_SECONDS, BENCH_ROUNDS, BENCH_LOADGEN), so `make bench VAR=value` works.
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench import report, throughput  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CONNECTIONS = 16
THROUGHPUT_REQUESTS = [
    ("list-20", "GET", "/experiments/?limit=20"),
    ("detail", "GET", "/experiments/{id}/"),
    ("create", "POST", "/experiments/"),
]


def option(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=option("BENCH_SIZES", "1000,1000000"), help="experiments, comma-separated")
    parser.add_argument("--backends", default=option("BENCH_BACKENDS", "sqlite,postgres"))
    parser.add_argument("--parts", default=option("BENCH_PARTS", "throughput,scale"))
    parser.add_argument("--repeat", type=int, default=int(option("BENCH_REPEAT", "20")), help="requests timed")
    parser.add_argument(
        "--budget", type=float, default=float(option("BENCH_BUDGET", "20")), help="seconds per endpoint, at most"
    )
    parser.add_argument("--seconds", type=int, default=int(option("BENCH_SECONDS", "5")), help="per load run")
    parser.add_argument("--rounds", type=int, default=int(option("BENCH_ROUNDS", "3")))
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default=option("BENCH_LOADGEN", "auto"))
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="print the report of an earlier run, measure nothing"
    )
    args = parser.parse_args()
    args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    args.backends = args.backends.split(",")
    args.parts = args.parts.split(",")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


PG_HOST = os.environ.get("PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PG_PORT", "5432"))
PG_USER = os.environ.get("PG_USER", "postgres")


def postgres_connect() -> psycopg.Connection:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=5, autocommit=True
    )


@contextmanager
def throwaway_database(backend: str, part: str) -> Iterator[dict[str, str]]:
    """The service's environment for a new empty database of `backend`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"registry-bench-{part}-") as data_dir:
        environment = {
            **os.environ,
            "DATA_DIR": data_dir,
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Set, even empty, so that a developer's .env cannot point the benchmark elsewhere (empty: the default).
            "DEBUG": "false",
            "HTTPS": "",
            "CACHE_URL": "",
            "REDIS_URL": "",
            "EMAIL_URL": "",
            "CONN_MAX_AGE": "",
            "GUNICORN_CMD_ARGS": "",
            "LOG_LEVEL": "WARNING",
            # An existing folder, so that whitenoise does not warn about a missing one: the API serves no files.
            "STATIC_ROOT": data_dir,
            "AUTH_THROTTLE_RATE": "1000/min",
            "JWT_ACCESS_TOKEN_MINUTES": "600",
            # gunicorn's control socket would otherwise be one path per user, shared by every server.
            "XDG_RUNTIME_DIR": data_dir,
        }
        if backend == "sqlite":
            yield {**environment, "DATABASE_URL": f"sqlite:///{data_dir}/bench.sqlite3"}
            return
        name = f"benchmark_{part}_{secrets.token_hex(4)}"
        with postgres_connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {**environment, "DATABASE_URL": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"}
        finally:
            with postgres_connect() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_process(environment: dict[str, str], *args: str) -> dict:
    """Run bench/inprocess.py with `args` in `environment`; its JSON answer."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "inprocess.py"), args[0], out.name, *args[1:]],
            cwd=ROOT,
            env=environment,
            check=True,
        )
        return json.loads(Path(out.name).read_text())


def measure_throughput(backend: str, args: argparse.Namespace, loadgen: str | None) -> dict:
    """Median figures over the rounds for each request, on a new database of `backend`."""
    with throwaway_database(backend, "tp") as environment:
        log(f"[throughput/{backend}] seeding")
        seeded = in_process(environment, "seed-throughput")
        log_path = Path(environment["DATA_DIR"]) / "gunicorn.log"
        with throughput.Gunicorn(environment, log_path) as server:
            reader = server.token(seeded["username"], seeded["password"])
            # Creates come from another user, so that the list measured does not grow while it is measured.
            writer = server.token(seeded["writer"], seeded["password"])
            requests = [
                (label, method, path.format(id=seeded["experiment"]), writer if method == "POST" else reader)
                for label, method, path in THROUGHPUT_REQUESTS
            ]
            for _, method, path, token in requests:
                body = throughput.CREATE_BODY if method == "POST" else None
                status, answer = throughput.call(server.port, method, path, body=body, token=token)
                if status not in (200, 201):
                    raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")

            def run(method: str, path: str, token: str, seconds: float) -> throughput.Figures:
                if loadgen:
                    figures = throughput.run_wrk(loadgen, server.port, method, path, token, seconds, CONNECTIONS)
                else:
                    figures = throughput.run_python(server.port, method, path, token, seconds, CONNECTIONS)
                server.wait_until_idle()
                return figures

            for _, method, path, token in requests:
                run(method, path, token, 1)  # Warm-up: every worker has connected and imported everything.
            rounds: dict[str, list[throughput.Figures]] = {label: [] for label, *_ in requests}
            for number in range(args.rounds):
                log(f"[throughput/{backend}] round {number + 1} of {args.rounds}")
                for label, method, path, token in requests:
                    rounds[label].append(run(method, path, token, args.seconds))
    return {
        label: {
            "rps": statistics.median(figure.requests_per_second for figure in figures),
            "p50": statistics.median(figure.p50_ms for figure in figures),
            "p99": statistics.median(figure.p99_ms for figure in figures),
            "errors": sum(figure.errors for figure in figures),
        }
        for label, figures in rounds.items()
    }


def measure_scale(backend: str, args: argparse.Namespace) -> dict:
    with throwaway_database(backend, "scale") as environment:
        log(f"[scale/{backend}] sizes {', '.join(f'{size:,}' for size in args.sizes)}")
        sizes = ",".join(map(str, args.sizes))
        return in_process(
            environment, "scale", "--sizes", sizes, "--repeat", str(args.repeat), "--budget", str(args.budget)
        )


def postgres_available() -> str | None:
    """The PostgreSQL server's version, or None when it does not answer."""
    try:
        with postgres_connect() as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError:
        return None


def main() -> int:
    args = parse_args()
    if args.render:
        print(report.render(**json.loads(args.render.read_text())))
        return 0
    # SIGTERM unwinds like Ctrl-C, so that the throwaway databases and the server are removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.monotonic()
    context = report.context()
    if "postgres" in args.backends:
        version = postgres_available()
        if version is None:
            log("PostgreSQL does not answer on PG_HOST:PG_PORT: measuring SQLite only.")
            args.backends = [backend for backend in args.backends if backend != "postgres"]
        context["PostgreSQL"] = version
    results: dict = {"throughput": {}, "scale": {}}
    loadgen = None
    if "throughput" in args.parts:
        loadgen = throughput.find_wrk(install=True) if args.loadgen != "python" else None
        if args.loadgen == "wrk" and not loadgen:
            log("wrk is not installed and could not be installed.")
            return 1
        context["load generator"] = (
            f"wrk -t2 -c{CONNECTIONS}" if loadgen else f"Python (2 processes x {CONNECTIONS // 2} threads)"
        )
        for backend in args.backends:
            results["throughput"][backend] = measure_throughput(backend, args, loadgen)
    if "scale" in args.parts:
        for backend in args.backends:
            results["scale"][backend] = measure_scale(backend, args)
    context["took"] = f"{(time.monotonic() - started) / 60:.1f} min"
    run = {"context": context, "settings": {"rounds": args.rounds, "seconds": args.seconds}, "results": results}
    text = report.render(**run)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"registry-{datetime.now(UTC):%Y%m%d-%H%M%S}.md"
    path.write_text(text)
    path.with_suffix(".json").write_text(json.dumps(run, indent=1))
    log(f"Written to {path.relative_to(ROOT)}, and its figures to {path.with_suffix('.json').name} (see --render)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
