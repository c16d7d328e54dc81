"""The embedded default, SQLite, under concurrent writers on four gunicorn workers: writers wait for the write lock
(WAL, IMMEDIATE transactions, a busy timeout) instead of failing with "database is locked"."""

import sqlite3
import threading
import time

from systemtests.harness import (
    UNTHROTTLED,
    Response,
    attempt,
    env_seconds,
    outcome,
    register_and_login,
    report,
)

WRITERS = 8
MAX_WRITES_PER_WRITER = 20_000  # A bound on each loop, far above what 20 seconds allow.


def test_concurrent_writers_on_sqlite_never_see_database_is_locked(start_server):
    seconds = env_seconds("SYSTEM_TEST_SQLITE_SECONDS", 20)
    # No DATABASE_URL: the service uses its default, db.sqlite3 in the server's fresh DATA_DIR.
    server = start_server(None, AUTH_THROTTLE_RATE=UNTHROTTLED)
    tokens = [register_and_login(server.port, f"writer{index}")["access"] for index in range(WRITERS)]
    barrier = threading.Barrier(WRITERS, timeout=30)
    created: list[list[int]] = [[] for _ in range(WRITERS)]
    failures: list[list[tuple]] = [[] for _ in range(WRITERS)]
    latencies: list[list[float]] = [[] for _ in range(WRITERS)]

    def write(index: int) -> None:
        barrier.wait()
        deadline = time.monotonic() + seconds
        for number in range(MAX_WRITES_PER_WRITER):
            if time.monotonic() >= deadline:
                break
            data = {"name": f"writer{index}-{number}", "parameters": {"n": number}, "tags": ["sqlite"]}
            result = attempt(server.port, "POST", "/experiments/", data=data, token=tokens[index])
            if isinstance(result, Response) and result.status == 201 and "locked" not in result.text.lower():
                created[index].append(result.json()["id"])
                latencies[index].append(result.elapsed)
            else:
                body = result.text[:300] if isinstance(result, Response) else ""
                failures[index].append((outcome(result), body))

    threads = [threading.Thread(target=write, args=(index,), name=f"writer{index}") for index in range(WRITERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a writer did not finish"

    ids = sorted(experiment_id for ids in created for experiment_id in ids)
    all_failures = [failure for writer in failures for failure in writer]
    locked = [failure for failure in all_failures if "locked" in failure[1].lower()]
    database = server.data_dir / "db.sqlite3"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        stored = sorted(row[0] for row in connection.execute("SELECT id FROM experiments_experiment"))
    connection.close()
    slowest = max((latency for writer in latencies for latency in writer), default=0.0)
    report(
        f"SQLite, {WRITERS} writers for {seconds:g} s",
        writes=len(ids),
        writes_per_second=round(len(ids) / elapsed, 1),
        per_writer=[len(writer) for writer in created],
        slowest_write=f"{slowest:.3f} s",
        failures=len(all_failures),
        locked_errors=len(locked),
        failure_samples=all_failures[:5],
        rows_in_database=len(stored),
    )
    assert not all_failures, all_failures[:5]
    assert ids, "no experiment was created"
    assert stored == ids
