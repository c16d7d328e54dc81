"""Faults: the database going away under a running service, and gunicorn stopping while a request is in flight."""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from systemtests.harness import (
    CONNECTION_ERRORS,
    GRACEFUL_TIMEOUT,
    HOST,
    PASSWORD,
    UNTHROTTLED,
    Postgres,
    register_and_login,
    report,
    request,
    unavailable,
)

# ---------------------------------------------------------------------------------------------------------------------
# PostgreSQL restarted under a steady stream of requests
# ---------------------------------------------------------------------------------------------------------------------

PROBE_INTERVAL = 0.1
OUTAGE_SECONDS = 3
RECOVERY_LIMIT = 10
MAX_PROBES = 2000  # A bound on the probe loop, far above what the test's ~20 seconds need.


@dataclass
class Probe:
    at: float  # time.monotonic() when the request was sent
    endpoint: str
    status: int | None
    content_type: str = ""
    body: str = ""
    error: str = ""
    retry_after: str | None = None

    def is_clean_503(self) -> bool:
        if self.status != 503 or not self.content_type.startswith("application/json") or "Traceback" in self.body:
            return False
        try:
            return isinstance(json.loads(self.body), dict)
        except ValueError:
            return False


def _postgres_cluster() -> tuple[str, str]:
    """The `pg_ctlcluster` binary and the version of the single cluster in /etc/postgresql; skip if missing."""
    if os.geteuid() != 0:
        unavailable("restarting PostgreSQL needs root (pg_ctlcluster as root)")
    binary = shutil.which("pg_ctlcluster")
    if binary is None:
        unavailable("restarting PostgreSQL needs pg_ctlcluster (Debian's postgresql-common)")
    versions = sorted(path.name for path in Path("/etc/postgresql").glob("*") if path.is_dir())
    if len(versions) != 1:
        unavailable(f"expected one PostgreSQL version in /etc/postgresql, found {versions or 'none'}")
    return binary, versions[0]


def _pg_ctlcluster(binary: str, version: str, action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, "--skip-systemctl-redirect", version, "main", action],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _recovered_at(probes: list[Probe], endpoint: str, since: float) -> float | None:
    """When `endpoint` began answering 200 for good after `since` (None if its last answer was not a 200)."""
    after = [probe for probe in probes if probe.endpoint == endpoint and probe.at >= since]
    if not after or after[-1].status != 200:
        return None
    recovered = after[-1].at
    for probe in reversed(after):
        if probe.status != 200:
            break
        recovered = probe.at
    return recovered


def test_service_answers_clean_503_while_postgres_restarts_and_recovers_without_restart(postgres, start_server):
    binary, version = _postgres_cluster()
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    token = register_and_login(server.port, "watcher")["access"]
    probes: list[Probe] = []
    done = threading.Event()

    def probe_forever() -> None:
        while not done.is_set() and len(probes) < MAX_PROBES:
            for endpoint, path, bearer in (("health", "/health", None), ("projects", "/projects/", token)):
                at = time.monotonic()
                try:
                    response = request(server.port, "GET", path, token=bearer, timeout=10)
                except CONNECTION_ERRORS as exc:
                    probes.append(Probe(at, endpoint, None, error=repr(exc)))
                    continue
                probes.append(
                    Probe(
                        at,
                        endpoint,
                        response.status,
                        response.content_type,
                        response.text[:2000],
                        retry_after=response.headers.get("retry-after"),
                    )
                )
            done.wait(PROBE_INTERVAL)

    prober = threading.Thread(target=probe_forever, name="prober", daemon=True)
    stopped_at = back_at = None
    try:
        prober.start()
        time.sleep(1.5)
        stopped_at = time.monotonic()
        stop = _pg_ctlcluster(binary, version, "stop")
        assert stop.returncode == 0, f"pg_ctlcluster stop: {stop.returncode} {stop.stdout} {stop.stderr}"
        time.sleep(OUTAGE_SECONDS)
        start = _pg_ctlcluster(binary, version, "start")
        # pg_ctl waits until the server accepts connections before it returns.
        back_at = time.monotonic()
        assert start.returncode == 0, f"pg_ctlcluster start: {start.returncode} {start.stdout} {start.stderr}"
        assert postgres.wait_until_up(30), "PostgreSQL did not accept connections within 30 s of its start"
        # Until both endpoints have answered 200 three times in a row, bounded; then a second more of steady state.
        deadline = back_at + RECOVERY_LIMIT + 2
        while time.monotonic() < deadline:
            recent = {
                endpoint: [probe.status for probe in probes if probe.endpoint == endpoint and probe.at >= back_at][-3:]
                for endpoint in ("health", "projects")
            }
            if all(statuses == [200, 200, 200] for statuses in recent.values()):
                break
            time.sleep(0.2)
        time.sleep(1)
    finally:
        done.set()
        prober.join(timeout=30)
        _ensure_postgres_running(binary, version, postgres)

    connection_errors = [probe for probe in probes if probe.status is None]
    unexpected = [probe for probe in probes if probe.status is not None and probe.status != 200]
    unclean = [probe for probe in unexpected if not probe.is_clean_503()]
    outage_503 = [probe for probe in probes if probe.endpoint == "health" and probe.status == 503]
    outage_503_during = [probe for probe in outage_503 if stopped_at <= probe.at <= back_at]
    recovery = {endpoint: _recovered_at(probes, endpoint, back_at) for endpoint in ("health", "projects")}
    figures = {
        endpoint: {
            status: sum(1 for probe in probes if probe.endpoint == endpoint and probe.status == status)
            for status in sorted({probe.status for probe in probes if probe.endpoint == endpoint}, key=str)
        }
        for endpoint in ("health", "projects")
    }
    report(
        f"PostgreSQL {version} stopped for {OUTAGE_SECONDS} s under a probe every {PROBE_INTERVAL} s",
        requests=len(probes),
        statuses=figures,
        database_down_for=f"{back_at - stopped_at:.1f} s (from the stop command to the start command's return)",
        health_503_during_outage=len(outage_503_during),
        seconds_to_recover={
            endpoint: None if at is None else round(max(at - back_at, 0.0), 2) for endpoint, at in recovery.items()
        },
        answers_503_without_retry_after={
            endpoint: sum(1 for probe in unexpected if probe.endpoint == endpoint and probe.retry_after is None)
            for endpoint in ("health", "projects")
        },
        traceback_in_server_log=server.log_contains("Traceback"),
        gunicorn_master_still_running=server.process.poll() is None,
        connection_errors=len(connection_errors),
        unclean_answers=[(probe.endpoint, probe.status, probe.content_type, probe.body[:300]) for probe in unclean][:5],
    )
    assert not connection_errors, [(probe.endpoint, probe.error) for probe in connection_errors][:5]
    assert not unclean, [(probe.endpoint, probe.status, probe.body[:300]) for probe in unclean][:5]
    assert outage_503_during, "/health never answered 503 while the database was down"
    assert server.process.poll() is None, "the gunicorn master exited"
    for endpoint, at in recovery.items():
        assert at is not None, f"{endpoint} did not answer 200 again after the database came back"
        assert at - back_at <= RECOVERY_LIMIT, f"{endpoint} took {at - back_at:.1f} s to recover"


def _ensure_postgres_running(binary: str, version: str, postgres: Postgres) -> None:
    """Whatever the test did, leave PostgreSQL running for everything after it."""
    if postgres.is_up():
        return
    status = _pg_ctlcluster(binary, version, "status")
    if status.returncode != 0:
        _pg_ctlcluster(binary, version, "start")
    if not postgres.wait_until_up(30):
        raise RuntimeError(f"PostgreSQL {version} is not running after the restart test; start it by hand")


# ---------------------------------------------------------------------------------------------------------------------
# SIGTERM to gunicorn while a request is in flight
# ---------------------------------------------------------------------------------------------------------------------


def test_sigterm_lets_a_request_in_flight_finish_and_exits_cleanly(postgres, start_server):
    """No endpoint is slow on purpose, so the client makes the request slow: it sends the headers and half the body of
    a registration, then the test sends SIGTERM to the gunicorn master, waits a second and sends the rest. The worker
    that accepted the connection is inside the application reading the body when SIGTERM arrives; a graceful stop
    lets it finish (201) before the worker and then the master exit, with status 0, well within graceful_timeout."""
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    body = json.dumps({"username": "latecomer", "email": "latecomer@example.com", "password": PASSWORD}).encode()
    head = (
        "POST /auth/register HTTP/1.1\r\n"
        f"Host: {HOST}:{server.port}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    half = len(body) // 2

    with socket.create_connection((HOST, server.port), timeout=30) as client:
        client.sendall(head + body[:half])
        # An idle sync worker accepts at once; half a second makes sure one holds the connection before SIGTERM.
        time.sleep(0.5)
        terminated_at = time.monotonic()
        server.terminate()
        time.sleep(1)
        running_after_a_second = server.process.poll() is None
        client.sendall(body[half:])
        response = _read_all(client)
    answered_after = time.monotonic() - terminated_at
    exit_code = server.wait(GRACEFUL_TIMEOUT + 5)
    exited_after = time.monotonic() - terminated_at

    status_line = response.split(b"\r\n", 1)[0].decode(errors="replace")
    rows = postgres.fetch(server.database_name, "SELECT username FROM accounts_user")
    report(
        "SIGTERM with a registration half sent",
        status_line=status_line,
        answered_after=f"{answered_after:.2f} s",
        master_exit_code=exit_code,
        master_exited_after=f"{exited_after:.2f} s (graceful_timeout {GRACEFUL_TIMEOUT} s)",
        users_in_database=rows,
    )
    assert running_after_a_second, "the master exited before the request in flight was answered"
    assert status_line.startswith("HTTP/1.1 201"), response[:2000]
    assert rows == [("latecomer",)]
    assert exit_code == 0, server.log_tail()
    # A worker still busy at graceful_timeout is killed, and the master then exits 0 all the same: only a stop well
    # before the timeout shows that the worker finished and left by itself.
    assert exited_after < GRACEFUL_TIMEOUT - 1, server.log_tail()


def _read_all(client: socket.socket, limit: int = 1 << 20) -> bytes:
    """Read until the server closes the connection (the request said `Connection: close`), bounded in size."""
    chunks = []
    size = 0
    while size < limit:
        chunk = client.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
