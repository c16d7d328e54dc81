"""A mixed load of reads and writes from several client processes on PostgreSQL: no errors, and the database holds
exactly the experiments the clients were told were created."""

import multiprocessing
import random
import statistics
import threading
import time
import traceback
from collections import Counter

import pytest

from systemtests.harness import (
    UNTHROTTLED,
    Response,
    attempt,
    env_seconds,
    outcome,
    register_and_login,
    report,
)

CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 200_000  # A bound on each loop, far above what a minute allows.
# (operation, weight): a third writes, the rest reads.
OPERATIONS = [
    ("create_experiment", 30),
    ("list_experiments", 25),
    ("read_experiment", 20),
    ("update_experiment", 5),
    ("list_projects", 15),
    ("create_project", 5),
]


def run_client(index: int, port: int, seconds: float, barrier, results) -> None:
    """One client process: its own account, then requests until `seconds` pass; puts its figures on `results`."""
    try:
        results.put(_client(index, port, seconds, barrier))
    except Exception:  # The parent must hear back from every client, whatever went wrong in it.
        barrier.abort()  # Releases the parent (and the other clients) at once instead of after the barrier's timeout.
        results.put({"index": index, "crash": traceback.format_exc()})


def _client(index: int, port: int, seconds: float, barrier) -> dict:
    rng = random.Random(index)
    username = f"loader{index}"
    token = register_and_login(port, username)["access"]
    names, weights = zip(*OPERATIONS, strict=True)
    created: list[int] = []
    latencies: list[float] = []
    operations: Counter = Counter()
    errors: list[tuple] = []
    barrier.wait()
    deadline = time.monotonic() + seconds
    for number in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            break
        operation = rng.choices(names, weights)[0]
        if operation in ("read_experiment", "update_experiment") and not created:
            operation = "create_experiment"
        if operation == "create_experiment":
            data = {"name": f"{username}-{number}", "parameters": {"n": number}, "tags": ["load"]}
            method, path, expected = "POST", "/experiments/", 201
        elif operation == "list_experiments":
            data, method, path, expected = None, "GET", f"/experiments/?limit=20&offset={rng.randrange(50)}", 200
        elif operation == "read_experiment":
            data, method, path, expected = None, "GET", f"/experiments/{rng.choice(created)}/", 200
        elif operation == "update_experiment":
            data = {"description": f"update {number}"}
            method, path, expected = "PATCH", f"/experiments/{rng.choice(created)}/", 200
        elif operation == "list_projects":
            data, method, path, expected = None, "GET", "/projects/", 200
        else:
            data, method, path, expected = {"name": f"{username}-project-{number}"}, "POST", "/projects/", 201
        result = attempt(port, method, path, data=data, token=token)
        operations[operation] += 1
        if isinstance(result, Response):
            latencies.append(result.elapsed)
        if not isinstance(result, Response) or result.status != expected:
            body = result.text[:300] if isinstance(result, Response) else ""
            errors.append((operation, outcome(result), body))
            continue
        if operation == "create_experiment":
            created.append(result.json()["id"])
    return {
        "index": index,
        "created": created,
        "latencies": latencies,
        "operations": dict(operations),
        "errors": errors,
    }


def test_mixed_load_from_several_processes_has_no_errors_and_loses_no_writes(postgres, start_server):
    seconds = env_seconds("SYSTEM_TEST_LOAD_SECONDS", 60)
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    # spawn, not fork: the clients start from a clean interpreter whatever threads the test process has.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLIENTS + 1, timeout=120)
    results = context.Queue()
    clients = [
        context.Process(target=run_client, args=(index, server.port, seconds, barrier, results), name=f"client{index}")
        for index in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    outcomes = []
    try:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            crashes = [results.get(timeout=30) for _ in clients]
            pytest.fail(f"a client could not start: {[c.get('crash') for c in crashes if 'crash' in c][:1]}")
        started = time.monotonic()
        for _ in clients:
            outcomes.append(results.get(timeout=seconds + 120))
        elapsed = time.monotonic() - started
    finally:
        for client in clients:
            client.join(timeout=30)
            if client.is_alive():
                client.kill()
                client.join(timeout=10)
        results.close()

    crashes = [outcome["crash"] for outcome in outcomes if "crash" in outcome]
    assert not crashes, crashes[0]
    created = [experiment_id for outcome in outcomes for experiment_id in outcome["created"]]
    latencies = sorted(latency for outcome in outcomes for latency in outcome["latencies"])
    errors = [error for outcome in outcomes for error in outcome["errors"]]
    operations = sum((Counter(outcome["operations"]) for outcome in outcomes), Counter())
    total = sum(operations.values())
    stored = {row[0] for row in postgres.fetch(server.database_name, "SELECT id FROM experiments_experiment")}
    report(
        f"mixed load, {CLIENTS} processes for {seconds:g} s on PostgreSQL",
        requests=total,
        requests_per_second=round(total / elapsed, 1),
        latency_median=f"{statistics.median(latencies) * 1000:.1f} ms" if latencies else None,
        latency_p95=f"{statistics.quantiles(latencies, n=20)[18] * 1000:.1f} ms" if len(latencies) > 1 else None,
        latency_max=f"{latencies[-1] * 1000:.1f} ms" if latencies else None,
        operations=dict(operations),
        errors=len(errors),
        error_samples=errors[:5],
        experiments_created=len(created),
        experiments_in_database=len(stored),
    )
    assert not errors, errors[:5]
    assert total > 0
    assert len(created) == len(set(created)), "an id was handed out twice"
    assert stored == set(created), {
        "in the database but never reported": sorted(stored - set(created))[:20],
        "reported but not in the database": sorted(set(created) - stored)[:20],
    }
