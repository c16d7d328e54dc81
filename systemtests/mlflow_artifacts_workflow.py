"""What training code does with artifacts, through the full MLflow package, run by test_artifacts.py in a virtualenv
of its own: logs every kind of artifact, lists and downloads them, and lets scikit-learn's autologging record a fit.
Prints one JSON line of what it read back; the files it logged and downloaded stay in the working folder."""

import filecmp
import json
import os
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

work = Path.cwd()
out = {}

# Files the run logs: one above the server's 1 MiB limit for other bodies, and a tree.
big = work / "weights.bin"
big.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
tree = work / "tree"
(tree / "sub" / "deeper").mkdir(parents=True)
(tree / "a.txt").write_text("top\n")
(tree / "sub" / "b.csv").write_text("x,y\n1,2\n")
(tree / "sub" / "deeper" / "c.json").write_text('{"c": 3}')

mlflow.set_experiment("artifacts")
with mlflow.start_run(run_name="files") as run:
    run_id = run.info.run_id
    out["run_id"] = run_id
    out["experiment_id"] = run.info.experiment_id
    out["artifact_uri"] = run.info.artifact_uri
    mlflow.log_artifact(str(big))
    mlflow.log_artifact(str(big), artifact_path="copies")
    mlflow.log_artifacts(str(tree), artifact_path="tree")
    mlflow.log_text("héllo wörld\n", "notes/hello.txt")
    mlflow.log_dict({"lr": 0.01, "layers": [64, 32]}, "config.json")
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3], [3, 1, 2])
    mlflow.log_figure(figure, "plots/line.png")
    mlflow.log_image(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), "plots/image.png")
    mlflow.log_table({"x": [1, 2], "y": ["a", "b"]}, "tables/t.json")

client = MlflowClient()
out["root"] = [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)]
out["tree_sub"] = [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "tree/sub")]
out["listing_a_file"] = [f.path for f in client.list_artifacts(run_id, "config.json")]

downloaded = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(work / "downloaded")))
out["same_weights"] = filecmp.cmp(big, downloaded / "weights.bin", shallow=False)
out["same_copy"] = filecmp.cmp(big, downloaded / "copies" / "weights.bin", shallow=False)
out["same_tree"] = not filecmp.dircmp(tree, downloaded / "tree").diff_files and all(
    filecmp.cmp(tree / p, downloaded / "tree" / p, shallow=False) for p in ["a.txt", "sub/b.csv", "sub/deeper/c.json"]
)
out["text"] = (downloaded / "notes" / "hello.txt").read_text(encoding="utf-8")
out["dict"] = json.loads((downloaded / "config.json").read_text())
out["table"] = json.loads((downloaded / "tables" / "t.json").read_text())
out["png_magic"] = [
    (downloaded / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in ["line.png", "image.png"]
]
single = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree/sub/b.csv", dst_path=tempfile.mkdtemp())
out["single_file"] = Path(single).read_text()
out["loaded_dict"] = mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json")
out["loaded_text"] = mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt")

# scikit-learn's autologging with its defaults: metrics, params and its plots (its model and datasets are checked by
# test_models.py).
mlflow.sklearn.autolog()
features, labels = load_breast_cancer(return_X_y=True)
with mlflow.start_run(run_name="autolog") as run:
    LogisticRegression(max_iter=5000).fit(features, labels)
autolog = client.get_run(run.info.run_id)
out["autolog_status"] = autolog.info.status
out["autolog_metrics"] = sorted(autolog.data.metrics)
out["autolog_params_count"] = len(autolog.data.params)
out["autolog_artifacts"] = sorted(f.path for f in client.list_artifacts(run.info.run_id))

# Deleting one file and one folder through the client.
MlflowClient()._tracking_client._get_artifact_repo(run_id).delete_artifacts("copies")
out["after_delete"] = [f.path for f in client.list_artifacts(run_id)]

json.dump(out, sys.stdout)
print()
