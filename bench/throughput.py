"""Registry's own throughput: gunicorn (the repository's gunicorn.conf.py, 2 workers) on loopback, under load.

The load comes from `wrk` when it is installed (`apt-get install -y wrk` is tried once when it is missing and we are
root), else from a load generator in Python here: several processes, each with threads on keep-alive-less
connections, which is how gunicorn's sync workers answer anyway. Each run is short; the caller runs rounds of all the
requests interleaved and takes the median of each figure.
"""

import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30
# wrk's own default (2 s) would count a slow answer as a failure and leave it out of the latencies.
REQUEST_TIMEOUT = 30
CREATE_BODY = {"name": "bench-create", "description": "made by the benchmark", "tags": ["bench"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, *, body: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Accept": "application/json", "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py` with the given environment, in a process group of its own."""

    def __init__(self, environment: dict[str, str], log_path: Path):
        self.port = free_port()
        self.environment = {**environment, "HOST": HOST, "PORT": str(self.port), "WEB_CONCURRENCY": "2"}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if call(self.port, "GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer /health within {STARTUP_TIMEOUT} s; see {self.log_path}")

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)

    def wait_until_idle(self) -> None:
        """Return once the requests a load run left queued are answered: a run that stops leaves up to one request
        per connection in the listen queue, which the workers still serve, and which would slow the next run."""
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: call(self.port, "GET", "/health"), range(2)))

    def token(self, username: str, password: str) -> str:
        status, body = call(self.port, "POST", "/auth/token", body={"username": username, "password": password})
        if status != 200:
            raise RuntimeError(f"POST /auth/token: {status} {body[:300]!r}")
        return json.loads(body)["access"]


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # Answers other than 2xx, and failed connections.


def find_wrk(install: bool) -> str | None:
    """The wrk binary; when missing and `install`, try Debian's package once (quietly; root only)."""
    if shutil.which("wrk") or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return shutil.which("wrk")
    print("wrk is not installed: trying `apt-get install -y wrk` ...", file=sys.stderr, flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # A machine whose package lists were never fetched knows no wrk yet: fetch them once, then try again.
    for command in (
        ["apt-get", "install", "-y", "-qq", "wrk"],
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "wrk"],
    ):
        if shutil.which("wrk"):
            break
        subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment, timeout=300, check=False
        )
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(wrk: str, port: int, method: str, path: str, token: str, seconds: float, connections: int) -> Figures:
    """One wrk run (-t2, `connections` connections, --latency); a POST sends CREATE_BODY through a Lua script."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{round(seconds)}s", "--latency", f"--timeout={REQUEST_TIMEOUT}s"]
    command += ["-H", f"Authorization: Bearer {token}", "-H", "Accept: application/json"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if method == "POST":
            script.write(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(json.dumps(CREATE_BODY))}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
            script.flush()
            command += ["-s", script.name]
        output = subprocess.run(
            [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, failed.groups())) if failed else 0)
    return Figures(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(latency["50"]),
        p99_ms=_milliseconds(latency["99"]),
        errors=errors,
    )


def _python_load(args: tuple) -> tuple[list[tuple[float, bool]], float]:
    """One load process: `threads` threads requesting for `seconds`; (milliseconds, ok) per request, and the time."""
    port, method, path, token, seconds, threads = args
    started = time.monotonic()
    deadline = started + seconds

    def worker(_) -> list[tuple[float, bool]]:
        samples = []
        while time.monotonic() < deadline:
            before = time.perf_counter()
            try:
                status, _ = call(port, method, path, body=CREATE_BODY if method == "POST" else None, token=token)
                ok = 200 <= status < 300
            except OSError:
                ok = False
            samples.append(((time.perf_counter() - before) * 1000, ok))
        return samples

    with ThreadPoolExecutor(threads) as pool:
        samples = [sample for part in pool.map(worker, range(threads)) for sample in part]
    return samples, time.monotonic() - started


def run_python(port: int, method: str, path: str, token: str, seconds: float, connections: int) -> Figures:
    """The same measure as run_wrk, from 2 processes of connections/2 threads each (wrk -t2 -cN's shape); each
    process times itself, so that starting the processes is not counted."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        parts = pool.map(_python_load, [(port, method, path, token, seconds, connections // 2)] * 2)
    samples = sorted(sample for part, _ in parts for sample in part)
    latencies = [milliseconds for milliseconds, _ in samples]
    return Figures(
        requests_per_second=sum(len(part) / elapsed for part, elapsed in parts),
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors=sum(not ok for _, ok in samples),
    )
