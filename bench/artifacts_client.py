"""MLflow's own client timing artifact transfers for bench/artifacts_bench.py, run in the full client's virtualenv with
MLFLOW_TRACKING_URI (and, for Registry, MLFLOW_TRACKING_TOKEN) pointing at one server.

It creates an experiment and a run, then answers one JSON line per JSON line it reads on stdin:
`{"op": "upload", "file": ..., "to": ...}` times `MlflowClient().log_artifact` of that file into the folder `to`;
`{"op": "download", "path": ..., "into": ...}` times `MlflowClient().download_artifacts` of that artifact into a new
folder and checks its size. Each answer is `{"seconds": ...}` or `{"error": ...}`; an empty line or the end of stdin
ends it.
"""

import json
import sys
import time
import uuid
from pathlib import Path

from mlflow import MlflowClient

client = MlflowClient()
experiment_id = client.create_experiment(f"bench-artifacts-{uuid.uuid4().hex[:8]}")
run_id = client.create_run(experiment_id).info.run_id
print(json.dumps({"run_id": run_id}), flush=True)

for line in sys.stdin:
    if not line.strip():
        break
    command = json.loads(line)
    try:
        if command["op"] == "upload":
            started = time.perf_counter()
            client.log_artifact(run_id, command["file"], artifact_path=command["to"])
            seconds = time.perf_counter() - started
        else:
            into = Path(command["into"])
            into.mkdir(parents=True)
            started = time.perf_counter()
            local = client.download_artifacts(run_id, command["path"], str(into))
            seconds = time.perf_counter() - started
            size = Path(local).stat().st_size
            if size != command["size"]:
                raise RuntimeError(f"downloaded {size} bytes, expected {command['size']}")
        print(json.dumps({"seconds": seconds}), flush=True)
    except Exception as exc:  # Reported to the benchmark, which stops with the servers' logs.
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
