"""Logged models and datasets with the full MLflow client, run in its own virtualenv against the server in
MLFLOW_TRACKING_URI: log a scikit-learn model, load it back by run and by id, autolog with the defaults, log a dataset
and a metric on it; prints one JSON line for the test to check."""

import json
import sys

import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

client = MlflowClient()
out = {}
experiment_id = mlflow.set_experiment("models").experiment_id
features, labels = load_breast_cancer(return_X_y=True)
fitted = LogisticRegression(max_iter=5000).fit(features, labels)
with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(fitted, name="model")
run_id, model_id = run.info.run_id, info.model_id
expected = fitted.predict(features)
out["same_by_run"] = bool((mlflow.pyfunc.load_model(f"runs:/{run_id}/model").predict(features) == expected).all())
out["same_by_id"] = bool((mlflow.pyfunc.load_model(f"models:/{model_id}").predict(features) == expected).all())
model = client.get_logged_model(model_id)
out["model"] = {
    "name": model.name,
    "status": str(model.status),
    "source_run_id": model.source_run_id,
    "experiment_id": model.experiment_id,
    "artifact_location": model.artifact_location,
}
out["model_files"] = sorted(f.path for f in client.list_logged_model_artifacts(model_id))
out["outputs"] = [[o.model_id, o.step] for o in client.get_run(run_id).outputs.model_outputs]
found = client.search_logged_models(experiment_ids=[experiment_id], filter_string="name = 'model'")
out["search"] = [m.model_id for m in found]

# scikit-learn's autologging with its defaults: metrics, params, plots, the model and the datasets.
mlflow.sklearn.autolog()
with mlflow.start_run(run_name="autolog") as autolog_run:
    LogisticRegression(max_iter=5000).fit(features, labels)
autolog = client.get_run(autolog_run.info.run_id)
out["autolog_status"] = autolog.info.status
out["autolog_metrics"] = sorted(autolog.data.metrics)
out["autolog_params_count"] = len(autolog.data.params)
out["autolog_artifacts"] = sorted(f.path for f in client.list_artifacts(autolog_run.info.run_id))
autolog_models = client.search_logged_models(
    experiment_ids=[experiment_id], filter_string=f"source_run_id = '{autolog_run.info.run_id}'"
)
out["autolog_models"] = [[m.name, str(m.status)] for m in autolog_models]
out["autolog_outputs"] = len(autolog.outputs.model_outputs)
out["autolog_datasets"] = sorted(
    [i.dataset.source_type, [[t.key, t.value] for t in i.tags]] for i in autolog.inputs.dataset_inputs
)
mlflow.sklearn.autolog(disable=True)

# A dataset logged by hand, and a metric on it.
frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
dataset = mlflow.data.from_pandas(frame, name="tiny")
with mlflow.start_run(run_name="inputs") as inputs_run:
    mlflow.log_input(dataset, context="training")
    mlflow.log_metric("loss", 0.25, dataset=dataset)
inputs = client.get_run(inputs_run.info.run_id)
out["inputs"] = [
    [i.dataset.name, i.dataset.digest == dataset.digest, i.dataset.source_type, [[t.key, t.value] for t in i.tags]]
    for i in inputs.inputs.dataset_inputs
]
out["inputs_metrics"] = inputs.data.metrics
out["dataset_schema"] = bool(inputs.inputs.dataset_inputs[0].dataset.schema)
training = client.search_runs([experiment_id], filter_string="datasets.context = 'training' and datasets.name = 'tiny'")
out["found_by_dataset"] = [r.info.run_id == inputs_run.info.run_id for r in training]
out.update(experiment_id=experiment_id, run_id=run_id, model_id=model_id)

json.dump(out, sys.stdout)
print()
