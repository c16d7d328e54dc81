"""MLflow's model registry routes (`registered-models/...`, `model-versions/...`) as the client calls them: the answers'
shapes, names and their qualification, where a model's project comes from, sources, and who may call what."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from experiments.models import ExperimentStatus
from experiments.tests.factories import ExperimentFactory
from loggedmodels import services as loggedmodels
from loggedmodels.models import LoggedModel, LoggedModelStatus
from loggedmodels.tests.factories import LoggedModelFactory
from mlflow_api.tests.test_mlflow_api import token_client
from modelregistry.models import ModelVersion, RegisteredModel
from modelregistry.tests.factories import AliasFactory, ModelVersionFactory, RegisteredModelFactory
from projects.models import LifecycleStage
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client, snapshot

pytestmark = pytest.mark.django_db

API = "/api/2.0/mlflow/"


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def error(response, http_status: int, code: str) -> str:
    assert response.status_code == http_status, response.content
    assert response.json()["error_code"] == code
    return response.json()["message"]


def call(client, method: str, path: str, body: dict | None = None):
    if method == "GET":
        return client.get(API + path, body or {})
    return getattr(client, method.lower())(API + path, body or {}, format="json")


def ms(moment) -> int:
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------------------------------


def test_register_a_logged_model_and_read_it_back_as_mlflow_answers(user, user_client):
    project = ProjectFactory(owner=user, name="churn work")
    run = ExperimentFactory(owner=user, project=project, status=ExperimentStatus.RUNNING)
    logged = LoggedModelFactory(project=project, creator=user, source_run=run, status=LoggedModelStatus.READY)

    made = ok(call(user_client, "POST", "registered-models/create", {"name": "churn", "description": "d"}))
    model = RegisteredModel.objects.get()
    assert made == {
        "registered_model": {
            "name": "churn",
            "creation_timestamp": ms(model.created_at),
            "last_updated_timestamp": ms(model.updated_at),
            "user_id": user.username,
            "experiment_id": str(model.project_id),
            "description": "d",
        }
    }
    body = {
        "name": "churn",
        "source": f"models:/{logged.model_id}",
        "model_id": logged.model_id,
        "run_id": run.run_uuid,
    }
    version = ok(call(user_client, "POST", "model-versions/create", body))["model_version"]
    stored = ModelVersion.objects.get()
    location = f"mlflow-artifacts:/{project.pk}/models/{logged.model_id}/artifacts"
    assert version == {
        "name": "churn",
        "version": "1",
        "creation_timestamp": ms(stored.created_at),
        "last_updated_timestamp": ms(stored.updated_at),
        "user_id": user.username,
        "current_stage": "None",
        "description": "",
        "source": f"models:/{logged.model_id}",
        "status": "READY",
        "run_link": "",
        "experiment_id": str(project.pk),
        "storage_location": location,
        "run_id": run.run_uuid,
        "model_id": logged.model_id,
    }
    # The model was made in the caller's Default project and followed its first version to the source's.
    model.refresh_from_db()
    assert (model.project_id, model.placed_by_default) == (project.pk, False)

    ok(call(user_client, "POST", "registered-models/alias", {"name": "churn", "alias": "champion", "version": "1"}))
    alias = model.aliases.get()
    by_alias = ok(call(user_client, "GET", "registered-models/alias", {"name": "churn", "alias": "champion"}))
    assert by_alias["model_version"]["aliases"] == ["champion"]
    assert by_alias["model_version"]["alias_details"] == [
        {"alias": "champion", "set_by": user.username, "set_at": ms(alias.set_at)}
    ]
    got = ok(call(user_client, "GET", "registered-models/get", {"name": "churn"}))["registered_model"]
    assert got["aliases"] == [
        {"alias": "champion", "version": "1", "set_by": user.username, "set_at": ms(alias.set_at)}
    ]
    assert [v["version"] for v in got["latest_versions"]] == ["1"]
    assert "aliases" not in got["latest_versions"][0]
    assert ok(call(user_client, "GET", "model-versions/get-download-uri", {"name": "churn", "version": "1"})) == {
        "artifact_uri": location
    }


def test_a_qualified_name_creates_the_model_in_that_project(user, user_client):
    project = ProjectFactory(owner=user)
    made = ok(call(user_client, "POST", "registered-models/create", {"name": f"{project.pk}:churn"}))
    assert made["registered_model"]["name"] == f"{project.pk}:churn"
    model = RegisteredModel.objects.get()
    assert (model.project_id, model.name, model.placed_by_default) == (project.pk, "churn", False)
    # Seen alone, it answers to its bare name too.
    assert ok(call(user_client, "GET", "registered-models/get", {"name": "churn"}))["registered_model"]["name"] == (
        "churn"
    )


def test_a_shared_name_is_ambiguous_and_shown_qualified(user, user_client):
    mine = RegisteredModelFactory(name="churn", project=ProjectFactory(owner=user))
    theirs = RegisteredModelFactory(name="churn")
    ProjectMembershipFactory(project=theirs.project, user=user, role="viewer")

    message = error(
        call(user_client, "GET", "registered-models/get", {"name": "churn"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert message == (
        f"The name 'churn' matches 2 registered models you can see: '{mine.project_id}:churn', "
        f"'{theirs.project_id}:churn'. Name one as '<experiment_id>:<name>'."
    )
    found = ok(call(user_client, "GET", "registered-models/get", {"name": f"{theirs.project_id}:churn"}))
    assert found["registered_model"]["experiment_id"] == str(theirs.project_id)
    # Creating the bare name again is MLflow's "already exists", which register_model then adds a version to.
    error(call(user_client, "POST", "registered-models/create", {"name": "churn"}), 400, "RESOURCE_ALREADY_EXISTS")
    listed = ok(call(user_client, "GET", "registered-models/search", {"filter": "name = 'churn'"}))
    assert [m["name"] for m in listed["registered_models"]] == [
        f"{mine.project_id}:churn",
        f"{theirs.project_id}:churn",
    ]


def test_a_version_from_another_project_is_refused_and_changes_nothing(user, user_client):
    model = RegisteredModelFactory(name="churn", project=ProjectFactory(owner=user))
    ModelVersionFactory(registered_model=model)
    elsewhere = LoggedModelFactory(project=ProjectFactory(owner=user))
    before = snapshot()
    body = {"name": "churn", "source": f"models:/{elsewhere.model_id}"}
    message = error(call(user_client, "POST", "model-versions/create", body), 400, "INVALID_PARAMETER_VALUE")
    assert "a version's source must be in its model's experiment" in message
    assert snapshot() == before


def test_a_run_folder_source_is_copied_into_a_logged_model_that_outlives_the_run(user, user_client):
    from artifacts import services as artifacts

    project = ProjectFactory(owner=user)
    run = ExperimentFactory(owner=user, project=project, status=ExperimentStatus.RUNNING)
    for path, content in [("model/MLmodel", b"flavors: {}"), ("model/data/model.pkl", b"pickle"), ("other.txt", b"x")]:
        artifacts.artifact_put(actor=user, experiment=run, path=path, stream=io.BytesIO(content), length=len(content))
    ok(call(user_client, "POST", "registered-models/create", {"name": f"{project.pk}:legacy"}))

    body = {"name": "legacy", "source": f"mlflow-artifacts:/{project.pk}/{run.run_uuid}/artifacts/model"}
    version = ok(call(user_client, "POST", "model-versions/create", {**body, "run_id": run.run_uuid}))["model_version"]
    logged = LoggedModel.objects.get()
    assert (logged.name, logged.status, logged.source_run_id) == ("model", LoggedModelStatus.READY, run.pk)
    assert version["model_id"] == logged.model_id
    assert sorted(entry.path for entry in loggedmodels.logged_model_file_list(actor=user, model=logged)) == [
        "MLmodel",
        "data",
    ]
    runs_body = {"name": "legacy", "source": f"runs:/{run.run_uuid}/model"}
    assert ok(call(user_client, "POST", "model-versions/create", runs_body))["model_version"]["version"] == "2"

    run.delete()
    stored = loggedmodels.logged_model_file_open(actor=user, model=logged, path="data/model.pkl")
    with stored.file as handle:
        assert handle.read() == b"pickle"


def test_a_deleted_logged_models_files_stay_readable_for_its_versions(user, user_client):
    version = ModelVersionFactory(registered_model=RegisteredModelFactory(project=ProjectFactory(owner=user)))
    logged = version.logged_model
    loggedmodels.logged_model_file_put(actor=user, model=logged, path="MLmodel", stream=io.BytesIO(b"m"), length=1)
    loggedmodels.logged_model_delete(actor=user, model=logged)
    url = f"/api/2.0/mlflow-artifacts/artifacts/{logged.project_id}/models/{logged.model_id}/artifacts/MLmodel"
    assert b"".join(user_client.get(url).streaming_content) == b"m"
    error(user_client.put(url, b"x", content_type="text/plain"), 404, "RESOURCE_DOES_NOT_EXIST")


BAD = [
    ("GET", "registered-models/get", {"name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "registered-models/get", {}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "registered-models/create", {"name": "a/b"}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "registered-models/create", {"name": "{model}"}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("POST", "registered-models/rename", {"name": "{model}", "new_name": "x:y"}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "model-versions/get", {"name": "{model}", "version": "9"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "model-versions/get", {"name": "{model}", "version": "x"}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "registered-models/alias", {"name": "{model}", "alias": "nope"}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "POST",
        "registered-models/alias",
        {"name": "{model}", "alias": "c", "version": "7"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "POST",
        "registered-models/alias",
        {"name": "{model}", "alias": "v1", "version": "1"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "model-versions/transition-stage",
        {"name": "{model}", "version": "1", "stage": "Shipped", "archive_existing_versions": False},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "model-versions/create",
        {"name": "{model}", "source": "s3://bucket/model"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("POST", "model-versions/create", {"name": "{model}", "source": "models:/m-0"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    (
        "POST",
        "model-versions/create",
        {"name": "{model}", "source": "runs:/{run}/../x"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("GET", "registered-models/search", {"filter": "description = 'x'"}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "registered-models/search", {"max_results": "1001"}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "registered-models/search", {"order_by": "owner"}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "model-versions/search", {"filter": "version_number > 'x'"}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "registered-models/search", {}, 405, "ENDPOINT_NOT_FOUND"),
]


def _filled(value, names: dict):
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    return value.format(**names) if isinstance(value, str) else value


@pytest.mark.parametrize(("method", "path", "body", "http_status", "code"), BAD)
def test_bad_input_gets_mlflow_json_4xx_and_changes_nothing(user, user_client, method, path, body, http_status, code):
    project = ProjectFactory(owner=user)
    model = RegisteredModelFactory(project=project, name="churn")
    ModelVersionFactory(registered_model=model)
    run = ExperimentFactory(owner=user, project=project)
    before = snapshot()
    error(call(user_client, method, path, _filled(body, {"model": model.name, "run": run.run_uuid})), http_status, code)
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------------------------------------


def test_searches_filter_order_and_page(user, user_client):
    project = ProjectFactory(owner=user)
    for name in ["churn-a", "churn-b", "fraud"]:
        model = RegisteredModelFactory(project=project, name=name)
        ModelVersionFactory(registered_model=model)
    RegisteredModelFactory(name="churn-hidden")  # Someone else's.
    prompt = RegisteredModelFactory(project=project, name="churn-prompt")
    prompt.tags.create(key="mlflow.prompt.is_prompt", value="true")
    RegisteredModel.objects.get(name="churn-b").tags.create(key="team", value="growth")

    def names(**params):
        answer = ok(call(user_client, "GET", "registered-models/search", params))
        return [m["name"] for m in answer["registered_models"]], answer.get("next_page_token")

    # The client adds the prompt clause to every search of models.
    prompt_clause = " AND tag.`mlflow.prompt.is_prompt` != 'true'"
    assert names(filter="name LIKE 'churn%'" + prompt_clause) == (["churn-a", "churn-b"], None)
    assert names(filter="tags.team = 'growth'") == (["churn-b"], None)
    assert names(filter="name IN ('fraud', 'churn-a')") == (["churn-a", "fraud"], None)
    assert names(order_by="name DESC") == (["fraud", "churn-b", "churn-a"], None)
    first, token = names(max_results="2")
    assert first == ["churn-a", "churn-b"] and token
    assert names(max_results="2", page_token=token) == (["fraud"], None)
    assert names(filter="tags.`mlflow.prompt.is_prompt` = 'true'") == (["churn-prompt"], None)

    versions = ok(call(user_client, "GET", "model-versions/search", {"filter": "name = 'churn-a'"}))
    assert [(v["name"], v["version"]) for v in versions["model_versions"]] == [("churn-a", "1")]
    numbered = ok(call(user_client, "GET", "model-versions/search", {"filter": "version_number >= 1"}))
    assert len(numbered["model_versions"]) == 3


def test_searches_read_a_fixed_number_of_queries_whatever_the_rows(user, user_client):
    project = ProjectFactory(owner=user)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            ok(call(user_client, "GET", path))
        return len(captured)

    def grow():
        model = RegisteredModelFactory(project=project)
        AliasFactory(model_version=ModelVersionFactory(registered_model=model))
        model.tags.create(key="k", value="v")

    grow()
    few = (queries("registered-models/search"), queries("model-versions/search"))
    for _ in range(5):
        grow()
    assert (queries("registered-models/search"), queries("model-versions/search")) == few


# ---------------------------------------------------------------------------------------------------------------------
# Access: caller -> route -> status, written out
# ---------------------------------------------------------------------------------------------------------------------

ROUTES = {
    # name: (method, path, body); {project} and {logged} are filled in; the model is `churn`, with version 1 and
    # @champion on it, a tag `k`, and version 1's tag `k`.
    "create": ("POST", "registered-models/create", {"name": "{project}:new-model"}),
    "get": ("GET", "registered-models/get", {"name": "churn"}),
    "rename": ("POST", "registered-models/rename", {"name": "churn", "new_name": "renamed"}),
    "update": ("PATCH", "registered-models/update", {"name": "churn", "description": "new"}),
    "delete": ("DELETE", "registered-models/delete", {"name": "churn"}),
    "search": ("GET", "registered-models/search", {}),
    "latest": ("POST", "registered-models/get-latest-versions", {"name": "churn"}),
    "latest-get": ("GET", "registered-models/get-latest-versions", {"name": "churn"}),
    "set-tag": ("POST", "registered-models/set-tag", {"name": "churn", "key": "k", "value": "2"}),
    "delete-tag": ("DELETE", "registered-models/delete-tag", {"name": "churn", "key": "k"}),
    "set-alias": ("POST", "registered-models/alias", {"name": "churn", "alias": "next", "version": "1"}),
    "delete-alias": ("DELETE", "registered-models/alias", {"name": "churn", "alias": "champion"}),
    "get-alias": ("GET", "registered-models/alias", {"name": "churn", "alias": "champion"}),
    "create-version": ("POST", "model-versions/create", {"name": "churn", "source": "models:/{logged}"}),
    "get-version": ("GET", "model-versions/get", {"name": "churn", "version": "1"}),
    "update-version": ("PATCH", "model-versions/update", {"name": "churn", "version": "1", "description": "x"}),
    "delete-version": ("DELETE", "model-versions/delete", {"name": "churn", "version": "1"}),
    "search-versions": ("GET", "model-versions/search", {}),
    "transition": (
        "POST",
        "model-versions/transition-stage",
        {"name": "churn", "version": "1", "stage": "Staging", "archive_existing_versions": False},
    ),
    "download-uri": ("GET", "model-versions/get-download-uri", {"name": "churn", "version": "1"}),
    "set-version-tag": ("POST", "model-versions/set-tag", {"name": "churn", "version": "1", "key": "k", "value": "2"}),
    "delete-version-tag": ("DELETE", "model-versions/delete-tag", {"name": "churn", "version": "1", "key": "k"}),
}
READS = {"get", "search", "latest", "latest-get", "get-alias", "get-version", "search-versions", "download-uri"}
TABLE = {
    "anonymous": dict.fromkeys(ROUTES, 401),
    # A name resolves among the models of projects the caller sees: to a stranger, there is no `churn`. The project
    # named in a qualified create exists, and refuses them.
    "stranger": {**dict.fromkeys(ROUTES, 404), "create": 403, "search": 200, "search-versions": 200},
    "viewer": {
        "create": 403,
        "get": 200,
        "rename": 403,
        "update": 403,
        "delete": 403,
        "search": 200,
        "latest": 200,
        "latest-get": 200,
        "set-tag": 403,
        "delete-tag": 403,
        "set-alias": 403,
        "delete-alias": 403,
        "get-alias": 200,
        "create-version": 403,
        "get-version": 200,
        "update-version": 403,
        "delete-version": 403,
        "search-versions": 200,
        "transition": 403,
        "download-uri": 200,
        "set-version-tag": 403,
        "delete-version-tag": 403,
    },
    "editor": {
        "create": 200,
        "get": 200,
        "rename": 403,
        "update": 200,
        "delete": 403,
        "search": 200,
        "latest": 200,
        "latest-get": 200,
        "set-tag": 200,
        "delete-tag": 200,
        "set-alias": 403,
        "delete-alias": 403,
        "get-alias": 200,
        "create-version": 200,
        "get-version": 200,
        "update-version": 200,
        "delete-version": 403,
        "search-versions": 200,
        "transition": 403,
        "download-uri": 200,
        "set-version-tag": 200,
        "delete-version-tag": 200,
    },
    "maintainer": dict.fromkeys(ROUTES, 200),
    "owner": dict.fromkeys(ROUTES, 200),
}
CODES = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}
# Every registry route of mlflow_api.urls, for the check that the scope tables name them all (test_mlflow_api).
SCOPE_ROUTES = [(path, method) for method, path, _ in ROUTES.values()]


def _world():
    project = ProjectFactory()
    model = RegisteredModelFactory(project=project, name="churn")
    model.tags.create(key="k", value="1")
    version = ModelVersionFactory(registered_model=model)
    version.tags.create(key="k", value="1")
    AliasFactory(model_version=version, alias="champion")
    logged = LoggedModelFactory(project=project, status=LoggedModelStatus.READY)
    return project, {"project": project.pk, "logged": logged.model_id}


def _caller(kind: str, project) -> APIClient:
    if kind == "anonymous":
        return APIClient()
    if kind in {"viewer", "editor", "maintainer"}:
        return bearer_client(ProjectMembershipFactory(project=project, role=kind).user)
    if kind == "owner":
        return bearer_client(project.owner)
    return bearer_client(UserFactory())


@pytest.mark.parametrize(
    ("kind", "route", "expected"),
    [(kind, route, row[route]) for kind, row in TABLE.items() for route in ROUTES],
    ids=[f"{kind}-{route}" for kind, row in TABLE.items() for route in ROUTES],
)
def test_the_permission_table_of_the_registry_routes(kind, route, expected):
    project, names = _world()
    client = _caller(kind, project)
    before = snapshot()
    method, path, body = ROUTES[route]

    response = call(client, method, path, _filled(body, names))

    assert response.status_code == expected, response.content
    if expected in CODES:
        assert response.json()["error_code"] == CODES[expected]
    if expected != 200 or route in READS:
        assert snapshot() == before, "a read or a refusal changed the database"
    else:
        assert snapshot() != before, "an allowed write changed nothing"


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize("route", list(ROUTES))
def test_a_read_token_may_read_and_load_only(scope, route):
    project, names = _world()
    method, path, body = ROUTES[route]
    before = snapshot()
    response = call(token_client(project.owner, scope), method, path, _filled(body, names))
    expected = 200 if scope == "write" or route in READS else 403
    assert response.status_code == expected, response.content
    if scope == "read":
        assert snapshot() == before


def test_a_deleted_project_takes_no_new_models(user, user_client):
    project = ProjectFactory(owner=user, lifecycle_stage=LifecycleStage.DELETED)
    error(
        call(user_client, "POST", "registered-models/create", {"name": f"{project.pk}:m"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
