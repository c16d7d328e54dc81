"""MLflow's model registry with the full MLflow client (mlflow-full-requirements.txt) against a live Registry and its
task worker, on SQLite and on PostgreSQL (mlflow_registry_workflow.py): `register_model` gives versions 1 and 2,
`@champion` on 2 loads and predicts as the fitted model does, and searches, tags, descriptions, renames, stages and
deletes answer as on MLflow's own server. A second user sees nothing until the project is shared; as a viewer they
load `@champion` and cannot move it; as a maintainer they can, and the owner gets a mail saying so."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from systemtests.harness import UNTHROTTLED, client_python, register_and_login, request
from systemtests.test_artifacts import personal_access_token

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "mlflow-full-requirements.txt"
WORKFLOW_TIMEOUT = 600

# What the `owner` phase printed against MLflow's own server (mlflow 3.17.2, `mlflow server --backend-store-uri
# sqlite:///... --serve-artifacts`), written out: Registry must answer the same, but for the logged model's random id in
# `download_uri`, checked below.
MLFLOWS_ANSWERS = {
    "registered": [
        {
            "name": "churn-classifier",
            "version": "1",
            "current_stage": "None",
            "description": "",
            "status": "READY",
            "tags": {},
            "aliases": [],
            "source_is_logged_model": True,
        },
        {
            "name": "churn-classifier",
            "version": "2",
            "current_stage": "None",
            "description": "",
            "status": "READY",
            "tags": {},
            "aliases": [],
            "source_is_logged_model": True,
        },
    ],
    "run_ids": [True, True],
    "champion_predicts_as_second": True,
    "version_1_predicts_as_first": True,
    "latest_predicts_as_second": True,
    "by_alias": {
        "name": "churn-classifier",
        "version": "2",
        "current_stage": "None",
        "description": "",
        "status": "READY",
        "tags": {},
        "aliases": ["champion"],
        "source_is_logged_model": True,
    },
    "missing_alias": "INVALID_PARAMETER_VALUE",
    "duplicate": "RESOURCE_ALREADY_EXISTS",
    "search_like": ["churn-classifier", "churn-other"],
    "search_desc": ["fraud", "churn-other", "churn-classifier"],
    "search_tag": ["churn-other"],
    "search_paged": [["churn-classifier", "churn-other"], ["fraud"]],
    "model": {
        "name": "churn-classifier",
        "description": "Predicts churn",
        "tags": {"owner": "alice"},
        "aliases": {"champion": "2"},
        "latest_versions": [["2", "None"]],
    },
    "version_1": {
        "name": "churn-classifier",
        "version": "1",
        "current_stage": "None",
        "description": "baseline",
        "status": "READY",
        "tags": {"validated": "yes"},
        "aliases": [],
        "source_is_logged_model": True,
    },
    "latest_staging": [["1", "Staging"]],
    "latest_all": [["1", "Staging"], ["2", "Production"]],
    "bad_stage": "INVALID_PARAMETER_VALUE",
    "archived": ["Production", [["1", "Production"], ["2", "Archived"]]],
    "versions_search": [["2", "Production"], ["1", "Archived"]],
    "versions_by_run": ["1"],
    "renamed": ["churn-renamed", "second", {"team": "growth"}],
    "old_name": "RESOURCE_DOES_NOT_EXIST",
    "fraud_versions": [["1", "2", "3"], ["3", "2"]],
    "fraud_deleted_version": "RESOURCE_DOES_NOT_EXIST",
    "fraud_aliases": {},
    "fraud_deleted": "RESOURCE_DOES_NOT_EXIST",
    "version_1_after_run_deleted": True,
}


@pytest.fixture(scope="session")
def mlflow_full_python() -> Path:
    return client_python(REQUIREMENTS, "mlflow-full")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    return request.getfixturevalue("postgres") if request.param == "postgres" else None


def run_phase(python: Path, port: int, token: str, phase: str, home: Path) -> dict:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    result = subprocess.run(
        [str(python), str(HERE / "mlflow_registry_workflow.py"), phase],
        cwd=home,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKFLOW_TIMEOUT,
    )
    assert result.returncode == 0, f"the {phase} phase failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_registry_with_mlflows_client_and_two_people(
    mlflow_full_python, database, start_server, mail_sink, tmp_path
):
    server = start_server(database, workers=1, EMAIL_URL=mail_sink.url, AUTH_THROTTLE_RATE=UNTHROTTLED)
    alice_access = register_and_login(server.port, "alice")["access"]
    bob_access = register_and_login(server.port, "bob")["access"]
    alice = personal_access_token(server.port, alice_access)
    bob = personal_access_token(server.port, bob_access)

    owner = run_phase(mlflow_full_python, server.port, alice, "owner", tmp_path)
    experiment_id, download_uri = owner.pop("experiment_id"), owner.pop("download_uri")
    assert owner == MLFLOWS_ANSWERS
    # Version 2's files are its logged model's, where that model's own answer puts them.
    assert download_uri.startswith(f"mlflow-artifacts:/{experiment_id}/models/m-")
    assert download_uri.endswith("/artifacts")

    assert run_phase(mlflow_full_python, server.port, bob, "stranger", tmp_path) == {
        "search": [],
        "get": "RESOURCE_DOES_NOT_EXIST",
        "by_alias": "RESOURCE_DOES_NOT_EXIST",
        "create_version": "RESOURCE_DOES_NOT_EXIST",
    }

    # Alice invites Bob to the experiment's project as a viewer; nothing shows until he accepts.
    invited = request(
        server.port, "POST", f"/projects/{experiment_id}/members/", data={"user": "bob", "role": "viewer"}, token=alice
    )
    assert invited.status == 202, invited.text
    assert run_phase(mlflow_full_python, server.port, bob, "stranger", tmp_path)["search"] == []
    accepted = request(server.port, "POST", f"/invitations/{invited.json()['id']}/accept", token=bob_access)
    assert accepted.status == 200, accepted.text

    assert run_phase(mlflow_full_python, server.port, bob, "viewer", tmp_path) == {
        # Alice's other models are in her Default project, which she did not share.
        "search": ["churn-classifier"],
        "champion_predicts_as_second": True,
        "move_champion": "PERMISSION_DENIED",
        "delete_champion": "PERMISSION_DENIED",
        "tag": "PERMISSION_DENIED",
        "champion": "2",
    }

    bob_id = request(server.port, "GET", "/users/me", token=bob).json()["id"]
    promoted = request(
        server.port, "PATCH", f"/projects/{experiment_id}/members/{bob_id}/", data={"role": "maintainer"}, token=alice
    )
    assert promoted.status == 200, promoted.text
    assert run_phase(mlflow_full_python, server.port, bob, "maintainer", tmp_path) == {
        "champion": "1",
        "champion_predicts_as_first": True,
    }

    # Alice, the project's owner, hears of the move; Bob, who made it, does not.
    subject = "[Registry] churn-classifier@champion moved from version 2 to 1"
    (mail,) = mail_sink.wait_for(1, subject=subject, timeout=30)
    assert mail.recipients == ("alice@example.com",)
    assert "Changed by bob" in mail.body
    alias = request(
        server.port, "GET", "/api/2.0/mlflow/registered-models/alias?name=churn-classifier&alias=champion", token=alice
    ).json()["model_version"]
    assert (alias["aliases"], alias["alias_details"][0]["set_by"]) == (["champion"], "bob")
