"""Real gunicorn servers of Registry for the system tests, and an HTTP client for them.

A `Server` migrates its own database, starts `gunicorn --config gunicorn.conf.py` from the project root with its own
port, data directory and secret key, waits for `/health`, and stops with SIGTERM; `Server.start_worker()` starts a
task worker (`manage.py qcluster`) beside it with the same environment. A `MailSink` is a local SMTP server that keeps
what it receives, a `HangingMailServer` one that accepts connections and never answers. Every request goes to
127.0.0.1 and every wait is bounded.
"""

import base64
import email
import email.policy
import hashlib
import http.client
import http.cookies
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30
STARTUP_TIMEOUT = 30
MIGRATE_TIMEOUT = 120
# Each server gets this much for requests in flight after SIGTERM (gunicorn's graceful_timeout).
GRACEFUL_TIMEOUT = 10
WORKERS = 4
PASSWORD = "correct-horse-battery-staple"
# For tests about something other than the auth throttle, which would otherwise answer 429 after ten sign-ups.
UNTHROTTLED = "100000/min"

# Service settings a test must not inherit from the shell that runs it: each server gets exactly what its test sets.
SERVICE_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "DATA_DIR",
        "ARTIFACT_MAX_BYTES",
        "ARTIFACTS_URL",
        "ARTIFACTS_S3_ENDPOINT_URL",
        "ARTIFACTS_S3_REGION",
        "ARTIFACTS_S3_ACCESS_KEY_ID",
        "ARTIFACTS_S3_SECRET_ACCESS_KEY",
        "ARTIFACTS_S3_ADDRESSING_STYLE",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "HTTPS",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_PRELOAD",
        "NUM_PROXIES",
        "TIME_ZONE",
        "JWT_ACCESS_TOKEN_MINUTES",
        "JWT_REFRESH_TOKEN_DAYS",
        "REGISTRATION_OPEN",
        "EXPIRATION_REMINDER_DAYS",
        "AUTH_THROTTLE_RATE",
        "CACHE_URL",
        "EMAIL_URL",
        "DEFAULT_FROM_EMAIL",
        "EMAIL_TIMEOUT",
        "CONN_MAX_AGE",
        "SQLITE_BUSY_TIMEOUT",
        "HOST",
        "PORT",
        "WEB_CONCURRENCY",
        "GRACEFUL_TIMEOUT",
        "WORKER_TIMEOUT",
        "FORWARDED_ALLOW_IPS",
        "LOG_LEVEL",
        "GUNICORN_CMD_ARGS",
        "REDIS_URL",
        "REMINDER_INTERVAL_MINUTES",
        "QUEUE_WORKERS",
        "TASK_TIMEOUT",
        "TASK_RETRY",
        "MAIL_ATTEMPTS",
        "MAIL_RETRY_SECONDS",
    }
)


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose infrastructure is missing; under CI, where it must be there, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


CLIENT_INSTALL_TIMEOUT = 900


def client_python(requirements: Path, name: str) -> Path:
    """The interpreter of a virtualenv outside the repository holding exactly `requirements` (a client such as
    MLflow's), made once per version of that file and kept between runs."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "registry-systemtests"
    venv = cache / f"{name}-{digest}"
    python = venv / "bin" / "python"
    if (venv / ".installed").exists():
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)],
            check=True,
            timeout=CLIENT_INSTALL_TIMEOUT,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        unavailable(f"could not install {requirements.name}: {exc.stderr[-2000:] if exc.stderr else exc}")
    except subprocess.TimeoutExpired:
        unavailable(f"installing {requirements.name} took too long")
    (venv / ".installed").touch()
    return python


def report(title: str, **figures) -> None:
    """Print what a test measured, so that a passing run still shows the numbers."""
    print(f"\n[figures] {title}")
    for name, value in figures.items():
        print(f"    {name}: {value}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def env_seconds(name: str, default: float) -> float:
    value = float(os.environ.get(name, default))
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value}")
    return value


# ---------------------------------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------------------------------

# What a failed exchange with gunicorn raises: refused or reset connections, timeouts, malformed answers.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    *,
    data=None,
    form: dict | None = None,
    token: str | None = None,
    cookie: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Response:
    """One request on a fresh connection to 127.0.0.1:port (`cookie`: a Cookie header, as `device_cookie` makes);
    connection errors propagate."""
    headers = {"Accept": "application/json", "Connection": "close"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.monotonic() - started
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, payload, elapsed)
    finally:
        connection.close()


def attempt(port: int, method: str, path: str, **kwargs) -> Response | str:
    """Like `request`, but a connection error comes back as a description instead of being raised."""
    try:
        return request(port, method, path, **kwargs)
    except CONNECTION_ERRORS as exc:
        return f"connection error: {exc!r}"


def outcome(result: Response | str) -> int | str:
    return result.status if isinstance(result, Response) else result


def tally(results: list[Response | str]) -> Counter:
    """Status codes (or connection errors) and how often each came back."""
    return Counter(outcome(result) for result in results)


def server_errors(results: list[Response | str]) -> list[Response | str]:
    """Responses with a 5xx status, and connection errors: what no client may ever get in these tests."""
    return [result for result in results if not isinstance(result, Response) or result.status >= 500]


def concurrently(count: int, action: Callable[[int], object], *, timeout: float = 120) -> list:
    """Run `action(0)` ... `action(count - 1)` in `count` threads released at once by a barrier; return the results."""
    barrier = threading.Barrier(count, timeout=30)

    def run(index: int):
        barrier.wait()
        return action(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, index) for index in range(count)]
        return [future.result(timeout=timeout) for future in futures]


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, unverified (the tests only read the `jti` the server gave them)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def device_cookie(response: Response) -> str:
    """The Cookie header that sends back the device cookie a successful login set, as a cookie jar would."""
    jar = http.cookies.SimpleCookie(response.headers.get("set-cookie", ""))
    assert "registry_device" in jar, f"no device cookie in {response.headers}"
    return f"registry_device={jar['registry_device'].value}"


def register(port: int, username: str, *, email: str | None = None, password: str = PASSWORD) -> dict:
    email = email or f"{username}@example.com"
    response = request(
        port, "POST", "/auth/register", data={"username": username, "email": email, "password": password}
    )
    assert response.status == 201, f"registering {username}: {response.status} {response.text}"
    return response.json()


def login(port: int, username: str, *, password: str = PASSWORD) -> dict:
    response = request(port, "POST", "/auth/token", data={"username": username, "password": password})
    assert response.status == 200, f"logging in {username}: {response.status} {response.text}"
    return response.json()


def register_and_login(port: int, username: str) -> dict:
    """A new account's token pair (`access`, `refresh`)."""
    register(port, username)
    return login(port, username)


# ---------------------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    """The PostgreSQL server the tests create their databases on (PG_HOST, PG_PORT, PG_USER; trust auth)."""

    host: str
    port: int
    user: str

    @classmethod
    def from_env(cls) -> "Postgres":
        return cls(
            host=os.environ.get("PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("PG_PORT", "5432")),
            user=os.environ.get("PG_USER", "postgres"),
        )

    def connect(self, dbname: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname=dbname, connect_timeout=5, **kwargs
        )

    def url(self, dbname: str) -> str:
        return f"postgres://{urllib.parse.quote(self.user)}@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        name = f"registry_systest_{secrets.token_hex(6)}"
        with self.connect(autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.connect(autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def fetch(self, dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect(dbname) as connection:
            return connection.execute(sql, params).fetchall()

    def is_up(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.OperationalError:
            return False

    def wait_until_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_up():
                return True
            time.sleep(0.2)
        return False


# ---------------------------------------------------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------------------------------------------------


class Server:
    """One gunicorn master with WORKERS workers, its own port, data directory, secret key and database."""

    def __init__(self, *, data_dir: Path, database_url: str | None = None, database_name: str | None = None, **env):
        self.data_dir = data_dir
        self.database_url = database_url
        self.database_name = database_name
        self.port = free_port()
        self.extra_env = env
        # Kept for the server's life: its task workers must sign and read tasks with the same key.
        self.secret_key = secrets.token_urlsafe(50)
        self.log_path = data_dir / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self._log_file = None
        self.workers: list[Worker] = []

    @property
    def bin_dir(self) -> Path:
        return Path(sys.executable).parent

    def environment(self) -> dict[str, str]:
        environment = {name: value for name, value in os.environ.items() if name not in SERVICE_VARIABLES}
        environment.update(
            WEB_CONCURRENCY=str(WORKERS),
            HOST=HOST,
            PORT=str(self.port),
            DATA_DIR=str(self.data_dir),
            SECRET_KEY=self.secret_key,
            LOG_LEVEL="WARNING",
            GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
            # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which every
            # server on the machine would share; each test server keeps its own in its data directory.
            XDG_RUNTIME_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            environment["DATABASE_URL"] = self.database_url
        environment.update({name: str(value) for name, value in self.extra_env.items()})
        return environment

    def start(self) -> "Server":
        environment = self.environment()
        migrate = subprocess.run(
            [str(self.bin_dir / "python"), "manage.py", "migrate", "--noinput"],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"migrate failed ({migrate.returncode}):\n{migrate.stdout}\n{migrate.stderr}")
        self._log_file = open(self.log_path, "wb")  # closed in stop()
        # A session of its own, so that a server that ignores SIGTERM can be killed with its workers, by group id.
        self.process = subprocess.Popen(
            [str(self.bin_dir / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode} on start:\n{self.log_tail()}")
            result = attempt(self.port, "GET", "/health", timeout=2)
            if isinstance(result, Response) and result.status == 200:
                return
            last = outcome(result)
            time.sleep(0.2)
        raise RuntimeError(f"/health did not answer 200 within {STARTUP_TIMEOUT} s (last: {last}):\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def terminate(self) -> None:
        """Send SIGTERM to the gunicorn master (a graceful stop)."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """The master's exit status, or None if it is still running after `timeout` seconds."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def start_worker(self) -> "Worker":
        """Start a task worker with this server's environment (database, key, broker, mail) and wait until it runs."""
        worker = Worker(self, index=len(self.workers))
        self.workers.append(worker)
        worker.start()
        return worker

    def manage(self, *args: str, timeout: float = MIGRATE_TIMEOUT) -> str:
        """Run `manage.py ARGS` with this server's environment; return its output, raise if it fails."""
        result = subprocess.run(
            [str(self.bin_dir / "python"), "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def stop(self) -> int | None:
        """SIGTERM, then up to the graceful timeout plus a margin; then SIGKILL to the server's process group."""
        for worker in self.workers:
            worker.stop()
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.terminate()
            if self.wait(GRACEFUL_TIMEOUT + 10) is None:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log other than access-log lines, and where the whole log is."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        kept = [line for line in text.splitlines() if not line.startswith(f"{HOST} - - [")]
        return "\n".join([*kept[-lines:], f"(whole log, with the access log: {self.log_path})"])

    def log_contains(self, needle: str) -> bool:
        try:
            return needle in self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return False


# ---------------------------------------------------------------------------------------------------------------------
# Task worker
# ---------------------------------------------------------------------------------------------------------------------

WORKER_STARTUP_TIMEOUT = 30


class Worker:
    """`manage.py qcluster` with a server's environment, in a process group of its own, logging to its own file."""

    def __init__(self, server: Server, *, index: int):
        self.server = server
        self.log_path = server.data_dir / f"worker-{index}.log"
        self.process: subprocess.Popen | None = None
        self._log_file = None

    def start(self) -> "Worker":
        # INFO: the worker's log says when it runs and what each task did.
        environment = {**self.server.environment(), "LOG_LEVEL": "INFO"}
        self._log_file = open(self.log_path, "ab")  # closed in stop()
        self.process = subprocess.Popen(
            [str(self.server.bin_dir / "python"), "manage.py", "qcluster"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode} on start:\n{self.log_tail()}")
            if "running." in self.log_text():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"the worker did not start within {WORKER_STARTUP_TIMEOUT} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole worker (its guard and task processes too): a crash, nothing finishes."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self) -> int | None:
        """SIGTERM (running tasks finish), then SIGKILL to the group if it takes too long."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # Whatever is left of the group.
        except ProcessLookupError:
            pass
        self.process.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.process.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        kept = self.log_text().splitlines()[-lines:]
        return "\n".join([*kept, f"(whole log: {self.log_path})"])


# ---------------------------------------------------------------------------------------------------------------------
# Mail servers
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    recipients: tuple[str, ...]
    subject: str
    body: str
    at: float  # time.monotonic() when it arrived


class MailSink:
    """A local SMTP server (aiosmtpd) that keeps every message it receives, on a free port or the one given."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> "MailSink":
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                received = ReceivedMail(
                    tuple(envelope.rcpt_tos), str(message["subject"]), message.get_content(), time.monotonic()
                )
                with sink._lock:
                    sink._messages.append(received)
                return "250 Message accepted"

        self._controller = Controller(Handler(), hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, subject: str | None = None) -> list[ReceivedMail]:
        with self._lock:
            return [message for message in self._messages if subject is None or message.subject == subject]

    def wait_for(self, count: int, *, subject: str | None = None, timeout: float) -> list[ReceivedMail]:
        """The messages (with `subject`) once there are at least `count`, or those there are after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages(subject)
            if len(messages) >= count:
                return messages
            time.sleep(0.1)
        return self.messages(subject)


class HangingMailServer:
    """A socket that accepts SMTP connections and never says a word: a mail server that hangs."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.connections: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> "HangingMailServer":
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, self.port))
        self._listener.listen(128)
        self._thread = threading.Thread(target=self._accept, name="hanging-smtp", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # The listener was closed.
                return
            self.connections.append(connection)

    def wait_for_connection(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connections:
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # Wakes the accepting thread.
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for connection in self.connections:
            connection.close()
        if self._thread is not None:
            self._thread.join(5)
