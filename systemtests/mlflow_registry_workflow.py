"""MLflow's model registry with the full MLflow client, run in its own virtualenv against the server in
MLFLOW_TRACKING_URI, as one of several people (the phase, argv[1]); prints one JSON line for the test to check.

- `owner`: two fitted models logged in two runs, registered with `register_model` as versions 1 and 2 (by a run's
  URI and by a logged model's), `@champion` set on 2 and both loaded back by alias and by version; then searches,
  tags, descriptions, stages, renames and deletes, each answer kept as MLflow's client returns it. The same phase,
  run against MLflow's own server, gave the literal expectations of test_model_registry.py.
- `stranger`, `viewer`, `maintainer`: another user, before the project is shared with them, then as a viewer (who
  loads `@champion` and may not move it), then as a maintainer (who may).

Every answer is reduced to what does not depend on the server: no ids, no times.
"""

import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

NAME = "churn-classifier"
phase = sys.argv[1]
client = MlflowClient()
features, labels = load_iris(return_X_y=True)
# Two models that predict differently, the same in every process that fits them.
first = LogisticRegression(C=0.01, max_iter=1000).fit(features, labels)
second = LogisticRegression(C=100.0, max_iter=1000).fit(features, labels)
assert (first.predict(features) != second.predict(features)).any()
out: dict = {}


def error_code(call) -> str | None:
    try:
        call()
    except MlflowException as exc:
        return exc.error_code
    return None


def predicts_as(uri: str, fitted) -> bool:
    return bool((mlflow.pyfunc.load_model(uri).predict(features) == fitted.predict(features)).all())


def version(mv) -> dict:
    return {
        "name": mv.name,
        "version": mv.version,
        "current_stage": mv.current_stage,
        "description": mv.description,
        "status": mv.status,
        "tags": mv.tags,
        "aliases": sorted(mv.aliases),
        "source_is_logged_model": mv.source.startswith("models:/m-"),
    }


def model(rm) -> dict:
    return {
        "name": rm.name,
        "description": rm.description,
        "tags": rm.tags,
        "aliases": rm.aliases,
        "latest_versions": sorted((mv.version, mv.current_stage) for mv in rm.latest_versions),
    }


def stages(mvs) -> list:
    return sorted([mv.version, mv.current_stage] for mv in mvs)


if phase == "owner":
    experiment_id = mlflow.set_experiment("registry").experiment_id
    with mlflow.start_run() as run1:
        mlflow.sklearn.log_model(first, name="model")
    with mlflow.start_run() as run2:
        logged2 = mlflow.sklearn.log_model(second, name="model")
    mv1 = mlflow.register_model(f"runs:/{run1.info.run_id}/model", NAME)
    mv2 = mlflow.register_model(f"models:/{logged2.model_id}", NAME)
    out["registered"] = [version(mv1), version(mv2)]
    out["run_ids"] = [mv1.run_id == run1.info.run_id, mv2.run_id == run2.info.run_id]
    client.set_registered_model_alias(NAME, "champion", "2")
    out["champion_predicts_as_second"] = predicts_as(f"models:/{NAME}@champion", second)
    out["version_1_predicts_as_first"] = predicts_as(f"models:/{NAME}/1", first)
    out["latest_predicts_as_second"] = predicts_as(f"models:/{NAME}/latest", second)
    out["by_alias"] = version(client.get_model_version_by_alias(NAME, "champion"))
    out["missing_alias"] = error_code(lambda: client.get_model_version_by_alias(NAME, "nobody"))

    client.create_registered_model("churn-other", tags={"team": "growth"}, description="second")
    client.create_registered_model("fraud")
    out["duplicate"] = error_code(lambda: client.create_registered_model(NAME))
    out["search_like"] = [m.name for m in client.search_registered_models(filter_string="name LIKE 'churn%'")]
    out["search_desc"] = [m.name for m in client.search_registered_models(order_by=["name DESC"])]
    out["search_tag"] = [m.name for m in client.search_registered_models(filter_string="tags.team = 'growth'")]
    out["search_paged"] = [
        [m.name for m in client.search_registered_models(max_results=2)],
        [
            m.name
            for m in client.search_registered_models(
                max_results=2, page_token=client.search_registered_models(max_results=2).token
            )
        ],
    ]

    client.set_registered_model_tag(NAME, "owner", "alice")
    client.set_registered_model_tag(NAME, "temporary", "x")
    client.delete_registered_model_tag(NAME, "temporary")
    client.set_model_version_tag(NAME, "1", "validated", "yes")
    client.update_registered_model(NAME, description="Predicts churn")
    client.update_model_version(NAME, "1", description="baseline")
    out["model"] = model(client.get_registered_model(NAME))
    out["version_1"] = version(client.get_model_version(NAME, "1"))

    client.transition_model_version_stage(NAME, "1", "staging")
    client.transition_model_version_stage(NAME, "2", "Production")
    out["latest_staging"] = stages(client.get_latest_versions(NAME, stages=["Staging"]))
    out["latest_all"] = stages(client.get_latest_versions(NAME))
    out["bad_stage"] = error_code(lambda: client.transition_model_version_stage(NAME, "1", "Shipped"))
    archived = client.transition_model_version_stage(NAME, "1", "Production", archive_existing_versions=True)
    out["archived"] = [archived.current_stage, stages(client.search_model_versions(f"name = '{NAME}'"))]
    client.transition_model_version_stage(NAME, "2", "Production", archive_existing_versions=True)
    out["versions_search"] = [[mv.version, mv.current_stage] for mv in client.search_model_versions(f"name = '{NAME}'")]
    out["versions_by_run"] = [mv.version for mv in client.search_model_versions(f"run_id = '{run1.info.run_id}'")]

    client.rename_registered_model("churn-other", "churn-renamed")
    renamed = client.get_registered_model("churn-renamed")
    out["renamed"] = [renamed.name, renamed.description, renamed.tags]
    out["old_name"] = error_code(lambda: client.get_registered_model("churn-other"))

    fraud = [mlflow.register_model(f"models:/{logged2.model_id}", "fraud").version for _ in range(2)]
    client.set_registered_model_alias("fraud", "shadow", "1")
    client.delete_model_version("fraud", "1")
    fraud.append(mlflow.register_model(f"models:/{logged2.model_id}", "fraud").version)
    out["fraud_versions"] = [fraud, [mv.version for mv in client.search_model_versions("name = 'fraud'")]]
    out["fraud_deleted_version"] = error_code(lambda: client.get_model_version("fraud", "1"))
    out["fraud_aliases"] = client.get_registered_model("fraud").aliases
    client.delete_registered_model("fraud")
    out["fraud_deleted"] = error_code(lambda: client.get_registered_model("fraud"))

    # A deleted run takes nothing from its versions: the logged model holds the files.
    client.delete_run(run1.info.run_id)
    out["version_1_after_run_deleted"] = predicts_as(f"models:/{NAME}/1", first)
    out["download_uri"] = client.get_model_version_download_uri(NAME, "2")
    out["experiment_id"] = experiment_id
elif phase == "stranger":
    out["search"] = [m.name for m in client.search_registered_models()]
    out["get"] = error_code(lambda: client.get_registered_model(NAME))
    out["by_alias"] = error_code(lambda: client.get_model_version_by_alias(NAME, "champion"))
    out["create_version"] = error_code(lambda: client.create_model_version(NAME, "models:/m-0"))
elif phase == "viewer":
    out["search"] = [m.name for m in client.search_registered_models(filter_string="name LIKE 'churn%'")]
    out["champion_predicts_as_second"] = predicts_as(f"models:/{NAME}@champion", second)
    out["move_champion"] = error_code(lambda: client.set_registered_model_alias(NAME, "champion", "1"))
    out["delete_champion"] = error_code(lambda: client.delete_registered_model_alias(NAME, "champion"))
    out["tag"] = error_code(lambda: client.set_registered_model_tag(NAME, "k", "v"))
    out["champion"] = client.get_model_version_by_alias(NAME, "champion").version
elif phase == "maintainer":
    client.set_registered_model_alias(NAME, "champion", "1")
    out["champion"] = client.get_model_version_by_alias(NAME, "champion").version
    out["champion_predicts_as_first"] = predicts_as(f"models:/{NAME}@champion", first)
else:
    raise SystemExit(f"unknown phase {phase!r}")

json.dump(out, sys.stdout)
print()
