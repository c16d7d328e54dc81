"""The embedded default, SQLite, under concurrent writers on four gunicorn workers and a task worker that keeps its
queue in the same file: writers wait for the write lock (WAL, IMMEDIATE transactions, a busy timeout) instead of
failing with "database is locked", and every registration's welcome mail still goes out."""

import sqlite3
import threading
import time

from systemtests.harness import (
    PASSWORD,
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
# Every this many writes, a writer registers an account instead, which gives the task worker a mail to send.
REGISTER_EVERY = 10
WELCOME = "Welcome to Registry"


def test_concurrent_writers_on_sqlite_never_see_database_is_locked(start_server, mail_sink):
    seconds = env_seconds("SYSTEM_TEST_SQLITE_SECONDS", 20)
    # No DATABASE_URL: the service uses its default, db.sqlite3 in the server's fresh DATA_DIR; the task worker's
    # queue is a table in the same file.
    server = start_server(None, workers=1, AUTH_THROTTLE_RATE=UNTHROTTLED, EMAIL_URL=mail_sink.url)
    tokens = [register_and_login(server.port, f"writer{index}")["access"] for index in range(WRITERS)]
    registered: list[list[str]] = [[] for _ in range(WRITERS)]
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
            if number % REGISTER_EVERY == REGISTER_EVERY - 1:
                username = f"joiner{index}-{number}"
                account = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
                result = attempt(server.port, "POST", "/auth/register", data=account)
                succeeded = isinstance(result, Response) and result.status == 201
                if succeeded:
                    registered[index].append(account["email"])
            else:
                data = {"name": f"writer{index}-{number}", "parameters": {"n": number}, "tags": ["sqlite"]}
                result = attempt(server.port, "POST", "/experiments/", data=data, token=tokens[index])
                succeeded = isinstance(result, Response) and result.status == 201
                if succeeded:
                    created[index].append(result.json()["id"])
            if succeeded and "locked" not in result.text.lower():
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
    joined = sorted(address for writer in registered for address in writer)
    welcomed = mail_sink.wait_for(WRITERS + len(joined), subject=WELCOME, timeout=60)
    welcomed_joiners = sorted(address for message in welcomed for address in message.recipients if "joiner" in address)
    worker_log = server.workers[0].log_text()
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
        registrations=len(joined),
        welcome_mails=len(welcomed),
        worker_locked_errors=worker_log.lower().count("database is locked"),
    )
    assert not all_failures, all_failures[:5]
    assert ids, "no experiment was created"
    assert stored == ids
    assert joined, "no account was registered"
    assert welcomed_joiners == joined
    assert "database is locked" not in worker_log.lower()
