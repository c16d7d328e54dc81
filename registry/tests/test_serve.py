"""bin/serve, which `make run` uses, run outside Docker as a subprocess: it starts the web server and the task worker,
stops both on SIGTERM or Ctrl-C, and exits non-zero when either dies."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SERVE = BASE_DIR / "bin" / "serve"
TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One migrated SQLite database for the module: migrating takes seconds, and these tests only start and stop."""
    path = tmp_path_factory.mktemp("serve")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=_env(path, port=_free_port()),
        check=True,
        timeout=120,
    )
    return path


def _env(data_dir: Path, *, port: int) -> dict[str, str]:
    """A clean environment, so that nothing configured on this machine leaks in."""
    return {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(data_dir),
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        "SECRET_KEY": "test-serve-not-secret",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "QUEUE_WORKERS": "1",
        "GRACEFUL_TIMEOUT": "5",
        "TASK_TIMEOUT": "5",
        "XDG_RUNTIME_DIR": str(data_dir),
    }


class Serve:
    def __init__(self, data_dir: Path, **env: str):
        self.port = _free_port()
        self.log_path = data_dir / f"serve-{self.port}.log"
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(SERVE)],
            cwd=BASE_DIR,
            env={**_env(data_dir, port=self.port), **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pid(self, name: str) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(rf"serve: started the {name} \(pid (\d+)\)", self.log())
            if match:
                return int(match.group(1))
            time.sleep(0.1)
        raise AssertionError(f"no {name} started:\n{self.log()}")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                    if response.status == 200 and "running." in self.log():
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready in {TIMEOUT} s:\n{self.log()}")

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"bin/serve did not exit:\n{self.log()}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


@pytest.fixture
def serve(data_dir):
    started = []

    def start(**env: str) -> Serve:
        server = Serve(data_dir, **env)
        started.append(server)
        server.wait_until_ready()
        return server

    yield start
    for server in started:
        server.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that has exited but was not yet reaped is a zombie, not alive.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_web_server_and_the_worker_and_exits_zero(serve, signum):
    server = serve()
    web, worker = server.child_pid("web server"), server.child_pid("worker")

    server.process.send_signal(signum)

    assert server.wait() == 0, server.log()
    assert not _alive(web) and not _alive(worker)
    assert "Q Cluster" in server.log() and "has stopped" in server.log()
    assert "Shutting down: Master" in server.log()


@pytest.mark.parametrize(("dying", "other"), [("worker", "web server"), ("web server", "worker")])
def test_when_one_process_dies_the_other_is_stopped_and_the_exit_is_non_zero(serve, dying, other):
    server = serve()
    dying_pid, other_pid = server.child_pid(dying), server.child_pid(other)

    os.kill(dying_pid, signal.SIGKILL)

    assert server.wait() != 0
    assert f"the {dying} exited with status -9; stopping the rest" in server.log()
    assert not _alive(other_pid)
    # Nothing is left of either: each ran in a process group of its own, named by its pid.
    for pgid in (dying_pid, other_pid):
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)


def _get(server: Serve, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_clients_mistake_is_in_the_access_log_and_is_no_warning(serve):
    server = serve()
    assert _get(server, "/no-such-page") == 404
    assert _get(server, "/experiments/") == 401
    server.process.send_signal(signal.SIGTERM)
    assert server.wait() == 0, server.log()
    log = server.log()
    assert '"GET /no-such-page HTTP/1.1" 404' in log and '"GET /experiments/ HTTP/1.1" 401' in log
    assert "django.request" not in log and "WARNING" not in log, log


def test_log_format_json_writes_every_line_as_a_json_object(serve):
    server = serve(LOG_FORMAT="json")
    assert _get(server, "/health?from=test") == 200
    server.process.send_signal(signal.SIGTERM)
    assert server.wait() == 0, server.log()
    # bin/serve's own lines ("serve: ...") are the supervisor's, outside the service's logging.
    lines = [line for line in server.log().splitlines() if line and not line.startswith("serve: ")]
    records = [json.loads(line) for line in lines]
    loggers = {record["logger"] for record in records}
    assert {"gunicorn.error", "gunicorn.access", "django-q"} <= loggers, loggers
    (access,) = [record for record in records if "/health?from=test" in record["message"]]
    assert access["logger"] == "gunicorn.access"
    assert '"GET /health?from=test HTTP/1.1" 200' in access["message"]
    assert set(access) >= {"time", "level", "logger", "process", "message"}


def _serve_check(port: int, tmp_path) -> subprocess.CompletedProcess:
    """Run `bin/serve --check` for 127.0.0.1:`port`."""
    return subprocess.run(
        [sys.executable, str(SERVE), "--check"],
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_already_taken_is_said_plainly_before_anything_starts(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = _serve_check(port, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"serve: port {port} on 127.0.0.1 is already in use (another Registry, or another program). "
        f"Choose another port: PORT={port + 1} make run"
    )


def test_a_free_port_passes_the_check(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = _serve_check(port, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
