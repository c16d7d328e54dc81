"""A training script's worth of MLflow calls against Registry, run by test_mlflow.py in a virtualenv holding only
mlflow-skinny. It prints one JSON object: what it read back through the MLflow client.

Environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN (a personal access token of the first user), READ_TOKEN (a
read-scoped token of the same user), OTHER_USERNAME and OTHER_TOKEN (a second user with no access, sent as HTTP Basic).
"""

import json
import math
import os
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, ViewType
from mlflow.exceptions import MlflowException


def error_code(call) -> str | None:
    try:
        call()
    except MlflowException as exc:
        return exc.error_code
    return None


def as_json(value):
    """NaN and infinities by name, as JSON cannot carry them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def main() -> dict:
    out: dict = {}
    client = MlflowClient()
    token = os.environ["MLFLOW_TRACKING_TOKEN"]

    experiment = mlflow.set_experiment("workflow")
    out["experiment_id"] = experiment.experiment_id
    out["set_experiment_again_same_id"] = mlflow.set_experiment("workflow").experiment_id == experiment.experiment_id
    mlflow.set_experiment_tag("team", "vision")

    with mlflow.start_run(run_name="train", description="first try") as run:
        train_id = run.info.run_id
        mlflow.log_params({"lr": 0.01, "layers": 3})
        mlflow.log_param("optimizer", "adam")
        for step in range(20):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.75})
        mlflow.set_tags({"stage": "dev", "owner-note": "kept"})
        mlflow.log_metric("diverged", float("nan"))
        mlflow.log_metric("overflow", float("inf"))
        with mlflow.start_run(run_name="child", nested=True) as child:
            child_id = child.info.run_id
            mlflow.log_metric("child_metric", 2.0)
    out["param_relogged_other_value"] = error_code(lambda: client.log_param(train_id, "lr", "0.5"))

    unnamed = mlflow.start_run()
    unnamed_id = unnamed.info.run_id
    mlflow.log_metric("loss", 0.5)
    mlflow.end_run("FAILED")

    big = client.create_run(experiment.experiment_id, run_name="big")
    now = int(time.time() * 1000)
    client.log_batch(big.info.run_id, metrics=[Metric("big", float(i), now, i) for i in range(2500)])
    client.set_terminated(big.info.run_id)

    train = client.get_run(train_id)
    out["train"] = {
        "name": train.info.run_name,
        "status": train.info.status,
        "has_end_time": train.info.end_time is not None,
        "params": train.data.params,
        "metrics": {key: as_json(value) for key, value in train.data.metrics.items()},
        "tags": {key: value for key, value in train.data.tags.items() if not key.startswith("mlflow.source")},
        "artifact_uri": train.info.artifact_uri,
    }
    out["child_parent"] = client.get_run(child_id).data.tags.get("mlflow.parentRunId") == train_id
    unnamed_run = client.get_run(unnamed_id)
    out["unnamed"] = {
        "status": unnamed_run.info.status,
        "name_generated": bool(unnamed_run.info.run_name),
        "name_tag_matches": unnamed_run.data.tags.get("mlflow.runName") == unnamed_run.info.run_name,
    }
    out["loss_history"] = [(m.step, m.value) for m in client.get_metric_history(train_id, "loss")]
    big_history = client.get_metric_history(big.info.run_id, "big")
    out["big_history"] = {
        "count": len(big_history),
        "steps": sorted({m.step for m in big_history}) == list(range(2500)),
    }
    out["big_latest"] = client.get_run(big.info.run_id).data.metrics

    found = client.search_runs(
        [experiment.experiment_id], filter_string="metrics.loss < 0.6", order_by=["metrics.loss ASC"]
    )
    out["search_loss"] = [(r.info.run_name, r.data.metrics["loss"]) for r in found]
    found = client.search_runs([experiment.experiment_id], filter_string="params.optimizer = 'adam'")
    out["search_param"] = [r.info.run_name for r in found]
    out["search_experiments"] = [e.name for e in client.search_experiments(filter_string="name LIKE 'work%'")]

    client.rename_experiment(experiment.experiment_id, "workflow-renamed")
    renamed = client.get_experiment(experiment.experiment_id)
    out["renamed"] = {"name": renamed.name, "tags": {k: v for k, v in renamed.tags.items()}}

    client.delete_run(unnamed_id)
    out["run_deleted_stage"] = client.get_run(unnamed_id).info.lifecycle_stage
    out["active_runs_after_delete"] = sorted(r.info.run_name for r in client.search_runs([experiment.experiment_id]))
    client.restore_run(unnamed_id)
    out["run_restored_stage"] = client.get_run(unnamed_id).info.lifecycle_stage

    other = client.create_experiment("scratch")
    client.delete_experiment(other)
    out["experiment_deleted_stage"] = client.get_experiment(other).lifecycle_stage
    out["deleted_experiments"] = [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    client.restore_experiment(other)
    out["experiment_restored_stage"] = client.get_experiment(other).lifecycle_stage

    same_start = client.create_experiment("same-start")
    out["same_start_runs"] = len({client.create_run(same_start, start_time=1).info.run_id for _ in range(10)})

    default_run = client.create_run("0", run_name="no-experiment")
    out["default_experiment_name"] = client.get_experiment(default_run.info.experiment_id).name

    os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["READ_TOKEN"]
    out["read_token_get_run"] = client.get_run(train_id).info.run_name
    out["read_token_log_metric"] = error_code(lambda: client.log_metric(train_id, "loss", 0.0))
    os.environ["MLFLOW_TRACKING_TOKEN"] = token

    # Basic credentials win over the bearer token in the client.
    os.environ["MLFLOW_TRACKING_USERNAME"] = os.environ["OTHER_USERNAME"]
    os.environ["MLFLOW_TRACKING_PASSWORD"] = os.environ["OTHER_TOKEN"]
    out["other_user_get_run"] = error_code(lambda: client.get_run(train_id))
    out["other_user_log_metric"] = error_code(lambda: client.log_metric(train_id, "loss", 0.0))
    out["other_user_search"] = [r.info.run_id for r in client.search_runs([experiment.experiment_id])]
    out["other_user_experiments"] = [(e.experiment_id, e.name) for e in client.search_experiments()]
    out["other_user_own_experiment"] = bool(mlflow.set_experiment("workflow").experiment_id)
    del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]

    os.environ["MLFLOW_TRACKING_TOKEN"] = "not-a-valid-token"
    started = time.monotonic()
    out["bad_token"] = error_code(lambda: mlflow.set_experiment("anything"))
    out["bad_token_seconds"] = time.monotonic() - started
    os.environ["MLFLOW_TRACKING_TOKEN"] = token

    out["run_ids"] = {"train": train_id, "unnamed": unnamed_id, "big": big.info.run_id}
    return out


if __name__ == "__main__":
    print(json.dumps(main()))
