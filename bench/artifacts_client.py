"""MLflow's own client timing artifact transfers for bench/artifacts_bench.py, run in the full client's virtualenv with
MLFLOW_TRACKING_URI (and, for Registry, MLFLOW_TRACKING_TOKEN) pointing at one server.

It creates an experiment and a run, then answers one JSON line per JSON line it reads on stdin:
`{"op": "upload", "file": ..., "to": ...}` times `MlflowClient().log_artifact` of that file into the folder `to`;
`{"op": "download", "path": ..., "into": ...}` times `MlflowClient().download_artifacts` of that artifact into a new
folder and checks its size. `{"op": "log_model", "infer": ...}` times `mlflow.sklearn.log_model` of a small fitted
LogisticRegression in a new run of the experiment (with `"infer": false`, its pip requirements are given rather than
inferred, which the client does in a subprocess of its own) and answers its run and model ids too;
`{"op": "load_model", "uri": ...}` times `mlflow.pyfunc.load_model` of that URI and checks the model's predictions.
Each answer is `{"seconds": ...}` or `{"error": ...}`; an empty line or the end of stdin ends it.
"""

import json
import sys
import time
import uuid
from pathlib import Path

import mlflow
from mlflow import MlflowClient

# The answers go to stdout alone: what MLflow prints there (a run's link when it ends) goes to the log.
answers = sys.stdout
sys.stdout = sys.stderr

client = MlflowClient()
experiment_id = client.create_experiment(f"bench-artifacts-{uuid.uuid4().hex[:8]}")
run_id = client.create_run(experiment_id).info.run_id
print(json.dumps({"run_id": run_id}), file=answers, flush=True)

_model = {}


def fitted():
    """The model logged, fitted once, on first use (its imports are not timed with the transfers)."""
    if not _model:
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression

        features, labels = load_breast_cancer(return_X_y=True)
        _model["features"] = features
        _model["model"] = LogisticRegression(max_iter=5000).fit(features, labels)
        _model["expected"] = _model["model"].predict(features)
        _model["requirements"] = [f"scikit-learn=={__import__('sklearn').__version__}"]
    return _model


def log_model(infer: bool) -> dict:
    model = fitted()
    options = {} if infer else {"pip_requirements": model["requirements"]}
    with mlflow.start_run(experiment_id=experiment_id) as run:
        started = time.perf_counter()
        info = mlflow.sklearn.log_model(model["model"], name="model", **options)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "run_id": run.info.run_id, "model_id": info.model_id}


def load_model(uri: str) -> dict:
    model = fitted()
    started = time.perf_counter()
    loaded = mlflow.pyfunc.load_model(uri)
    seconds = time.perf_counter() - started
    if not (loaded.predict(model["features"]) == model["expected"]).all():
        raise RuntimeError(f"{uri} predicts otherwise than the model logged")
    return {"seconds": seconds}


for line in sys.stdin:
    if not line.strip():
        break
    command = json.loads(line)
    try:
        if command["op"] == "log_model":
            print(json.dumps(log_model(command["infer"])), file=answers, flush=True)
            continue
        if command["op"] == "load_model":
            print(json.dumps(load_model(command["uri"])), file=answers, flush=True)
            continue
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
        print(json.dumps({"seconds": seconds}), file=answers, flush=True)
    except Exception as exc:  # Reported to the benchmark, which stops with the servers' logs.
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), file=answers, flush=True)
