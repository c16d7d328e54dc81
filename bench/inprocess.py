"""The part of the benchmark that runs inside Django, against the database that DATABASE_URL names.

bench/registry_bench.py starts it with a throwaway database and reads the JSON it writes:

    python bench/inprocess.py seed-throughput OUT.json
    python bench/inprocess.py scale OUT.json --sizes 1000,1000000 --repeat 20 --budget 20

`seed-throughput` migrates and seeds the data the gunicorn runs read (seed.THROUGHPUT). `scale` migrates, then for
each size grows the database to that many experiments (seed.SCALE) and times every list endpoint in process, through
REST framework's test client with a real JWT from `POST /auth/token`: the p50 and p95 over the repetitions, the queries
one request makes, and the plan of its slowest query.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench import seed  # noqa: E402
from bench.plans import explain  # noqa: E402

MIN_REPEAT = 3


def migrate() -> None:
    call_command("migrate", verbosity=0, interactive=False)


def logged_in_client(username: str) -> APIClient:
    """A client that sends a JWT access token obtained from the API, as any API client does."""
    client = APIClient(SERVER_NAME="localhost")
    response = client.post("/auth/token", {"username": username, "password": seed.PASSWORD}, format="json")
    if response.status_code != 200:
        raise RuntimeError(f"POST /auth/token for {username}: {response.status_code} {response.content[:300]!r}")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


# (who asks, path): every list endpoint and filter, and one detail; {project} and {experiment} are ids filled in.
ENDPOINTS = [
    ("caller", "/experiments/?limit=20"),
    ("caller", "/experiments/?limit=20&offset=100"),
    ("caller", f"/experiments/?limit=20&search={seed.SEARCHED_WORD}"),
    ("caller", "/experiments/?limit=20&status=draft"),
    ("caller", "/experiments/?limit=20&project={project}"),
    ("caller", "/experiments/?limit=20&ordering=-created_at"),
    ("caller", "/projects/?limit=20"),
    ("caller", "/projects/{project}/experiments/?limit=20"),
    ("caller", "/experiments/{experiment}/"),
    ("wide", "/experiments/?limit=20"),
    ("wide", "/projects/?limit=20"),
]


def label(who: str, path: str) -> str:
    """How the report names a request: its path with `{id}` for the ids, and who asks when not the caller."""
    generic = path.replace("{project}", "{id}").replace("{experiment}", "{id}")
    return f"GET {generic} (wide caller)" if who == "wide" else f"GET {generic}"


def endpoints(shape: seed.Shape) -> list[tuple[str, str, str]]:
    """(label, who, path) for each request measured."""
    ids = {
        "project": seed.project_ids(shape)[shape.caller_projects[0]],
        "experiment": seed.experiment_id(shape.shared_experiment()),
    }
    return [(label(who, path), who, path.format(**ids)) for who, path in ENDPOINTS]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value that at least `share` of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def measure(client: APIClient, path: str, repeat: int, budget: float) -> dict:
    """Time `repeat` requests (fewer, but at least MIN_REPEAT, when they take more than `budget` seconds)."""
    response = client.get(path)  # Warms the caches (Django's URL resolver, the database's pages).
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:300]!r}")
    durations = []

    def timed(execute, sql, params, many, context):
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append(time.perf_counter() - before)

    # The log gives each query's SQL with its parameters inlined (what EXPLAIN needs), the wrapper a finer duration
    # than the log's milliseconds; both see the same queries in the same order.
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        response = client.get(path)
    # A copy: the context reads the connection's query log, which the next request clears.
    queries = [query["sql"] for query in captured.captured_queries]
    times = []
    started = time.perf_counter()
    while len(times) < repeat and (len(times) < MIN_REPEAT or time.perf_counter() - started < budget):
        before = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - before)
    slowest = max(range(len(queries)), key=durations.__getitem__)
    return {
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "repeat": len(times),
        "queries": len(queries),
        "rows": response.headers.get("X-Total-Count", "1"),
        "slowest_ms": durations[slowest] * 1000,
        "slowest_sql": queries[slowest],
        "plan": explain(queries[slowest]),
    }


def run_scale(sizes: list[int], repeat: int, budget: float) -> dict:
    migrate()
    results = {"vendor": connection.vendor, "sizes": {}}
    have = 0
    for size in sizes:
        print(f"  seeding {size:,} experiments ...", file=sys.stderr, flush=True)
        seconds = seed.grow(seed.SCALE, have, size)
        have = size
        print(f"  seeded in {seconds:.1f} s; measuring", file=sys.stderr, flush=True)
        clients = {"caller": logged_in_client(seed.CALLER), "wide": logged_in_client(seed.WIDE_CALLER)}
        measured = {}
        for name, who, path in endpoints(seed.SCALE):
            measured[name] = figures = measure(clients[who], path, repeat, budget)
            print(
                f"    {name}: p50 {figures['p50'] * 1000:.1f} ms, {figures['queries']} queries",
                file=sys.stderr,
                flush=True,
            )
        results["sizes"][str(size)] = {"seed_seconds": seconds, "endpoints": measured}
    return results


def run_seed_throughput() -> dict:
    migrate()
    seconds = seed.grow(seed.THROUGHPUT, 0, seed.THROUGHPUT_EXPERIMENTS)
    return {
        "seed_seconds": seconds,
        "username": seed.CALLER,
        "writer": seed.WIDE_CALLER,
        "password": seed.PASSWORD,
        "experiment": seed.experiment_id(0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["scale", "seed-throughput"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="1000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--budget", type=float, default=20.0)
    args = parser.parse_args()
    if args.mode == "scale":
        sizes = sorted({int(size) for size in args.sizes.split(",")})
        results = run_scale(sizes, args.repeat, args.budget)
    else:
        results = run_seed_throughput()
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
