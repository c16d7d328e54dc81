"""The registry in our REST API (`/registered-models/`, `/projects/{id}/registered-models/`, `/model-versions/`) and in
the admin: every caller against every route with the answers written out, lists that show only what the caller may
see, with a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from modelregistry.models import AliasChange, ModelVersion, RegisteredModel, RegisteredModelAlias
from modelregistry.tests.factories import AliasFactory, ModelVersionFactory, RegisteredModelFactory
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import bearer_client, snapshot

pytestmark = pytest.mark.django_db


def _world():
    project = ProjectFactory()
    model = RegisteredModelFactory(project=project, name="churn")
    first = ModelVersionFactory(registered_model=model)
    second = ModelVersionFactory(registered_model=model)
    AliasFactory(model_version=first, alias="champion")
    return project, model, first, second


ROUTES = {
    # name: (method, url of (project, model, first version, second version), body)
    "list": ("get", lambda p, m, v1, v2: reverse("registered-model-list"), None),
    "project-list": ("get", lambda p, m, v1, v2: reverse("project-registered-model-list", args=[p.pk]), None),
    "create": ("post", lambda p, m, v1, v2: reverse("registered-model-list"), lambda p: {"project": p.pk, "name": "x"}),
    "retrieve": ("get", lambda p, m, v1, v2: reverse("registered-model-detail", args=[m.pk]), None),
    "describe": (
        "patch",
        lambda p, m, v1, v2: reverse("registered-model-detail", args=[m.pk]),
        lambda p: {"description": "new"},
    ),
    "rename": ("patch", lambda p, m, v1, v2: reverse("registered-model-detail", args=[m.pk]), lambda p: {"name": "y"}),
    "destroy": ("delete", lambda p, m, v1, v2: reverse("registered-model-detail", args=[m.pk]), None),
    "set-alias": (
        "post",
        lambda p, m, v1, v2: reverse("registered-model-aliases", args=[m.pk]),
        lambda p: {"alias": "champion", "version": 2},
    ),
    "delete-alias": ("delete", lambda p, m, v1, v2: reverse("registered-model-alias", args=[m.pk, "champion"]), None),
    "versions": ("get", lambda p, m, v1, v2: reverse("model-version-list"), None),
    "version": ("get", lambda p, m, v1, v2: reverse("model-version-detail", args=[v1.pk]), None),
    "describe-version": (
        "patch",
        lambda p, m, v1, v2: reverse("model-version-detail", args=[v1.pk]),
        lambda p: {"description": "new"},
    ),
    "transition": (
        "post",
        lambda p, m, v1, v2: reverse("model-version-transition", args=[v1.pk]),
        lambda p: {"stage": "Production"},
    ),
    "destroy-version": ("delete", lambda p, m, v1, v2: reverse("model-version-detail", args=[v2.pk]), None),
}
WRITES = {"create", "describe", "rename", "destroy", "set-alias", "delete-alias", "describe-version", "transition"}
WRITES |= {"destroy-version"}
TABLE = {
    "anonymous": dict.fromkeys(ROUTES, 401),
    # Lists show them nothing; an existing model or version answers 403, as every detail route of the API does.
    "stranger": {
        **dict.fromkeys(ROUTES, 403),
        "list": 200,
        "versions": 200,
        # The project is not one they may create models in: an invalid choice.
        "create": 400,
    },
    "viewer": {
        "list": 200,
        "project-list": 200,
        "create": 400,
        "retrieve": 200,
        "describe": 403,
        "rename": 403,
        "destroy": 403,
        "set-alias": 403,
        "delete-alias": 403,
        "versions": 200,
        "version": 200,
        "describe-version": 403,
        "transition": 403,
        "destroy-version": 403,
    },
    "editor": {
        "list": 200,
        "project-list": 200,
        "create": 201,
        "retrieve": 200,
        "describe": 200,
        "rename": 403,
        "destroy": 403,
        "set-alias": 403,
        "delete-alias": 403,
        "versions": 200,
        "version": 200,
        "describe-version": 200,
        "transition": 403,
        "destroy-version": 403,
    },
    "maintainer": {
        **{name: 200 for name in ROUTES},
        "create": 201,
        "destroy": 204,
        "delete-alias": 204,
        "destroy-version": 204,
    },
}
TABLE["owner"] = TABLE["maintainer"]


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
def test_the_permission_table_of_the_registry_api(kind, route, expected):
    project, model, first, second = _world()
    client = _caller(kind, project)
    method, url, body = ROUTES[route]
    before = snapshot()

    response = getattr(client, method)(
        url(project, model, first, second), body(project) if body else None, format="json"
    )

    assert response.status_code == expected, response.content
    if route in WRITES and 200 <= expected < 300:
        assert snapshot() != before
    else:
        assert snapshot() == before


def test_the_lists_show_what_the_caller_sees_with_aliases(user):
    project, model, first, second = _world()
    ProjectMembershipFactory(project=project, user=user, role="viewer")
    RegisteredModelFactory(name="elsewhere")
    mine = RegisteredModelFactory(project=ProjectFactory(owner=user), name="mine")
    client = bearer_client(user)

    listed = client.get(reverse("registered-model-list")).json()
    assert [(m["name"], m["role"]) for m in listed] == [("churn", "viewer"), ("mine", "owner")]
    churn = listed[0]
    alias = first.aliases.get()
    assert churn["aliases"] == [
        {
            "alias": "champion",
            "version": 1,
            "set_by": model.creator.username,
            "set_at": alias.set_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    per_project = client.get(reverse("project-registered-model-list", args=[mine.project_id])).json()
    assert [m["name"] for m in per_project] == ["mine"]
    versions = client.get(reverse("model-version-list"), {"alias": "champion"}).json()
    assert [(v["name"], v["version"], [a["alias"] for a in v["aliases"]]) for v in versions] == [
        ("churn", 1, ["champion"])
    ]


def test_the_lists_read_a_fixed_number_of_queries(user):
    project = ProjectFactory(owner=user)
    client = bearer_client(user)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def grow():
        model = RegisteredModelFactory(project=project)
        AliasFactory(model_version=ModelVersionFactory(registered_model=model))
        model.tags.create(key="k", value="v")

    urls = [reverse("registered-model-list"), reverse("model-version-list")]
    urls.append(reverse("project-registered-model-list", args=[project.pk]))
    grow()
    few = [queries(url) for url in urls]
    for _ in range(5):
        grow()
    assert [queries(url) for url in urls] == few


def test_an_alias_set_through_the_api_is_recorded(user):
    project, model, first, second = _world()
    client = bearer_client(project.owner)
    response = client.post(reverse("registered-model-aliases", args=[model.pk]), {"alias": "champion", "version": 2})
    assert response.json()["version"] == 2
    assert list(AliasChange.objects.values_list("from_version", "to_version", "actor")) == [(1, 2, project.owner.pk)]
    refused = client.post(reverse("registered-model-aliases", args=[model.pk]), {"alias": "latest", "version": 2})
    assert refused.status_code == 400


def test_the_schema_documents_the_registry(api_client):
    paths = api_client.get("/schema", HTTP_ACCEPT="application/json").json()["paths"]
    for path in [
        "/registered-models/",
        "/registered-models/{id}/",
        "/registered-models/{id}/aliases/",
        "/projects/{project_pk}/registered-models/",
        "/model-versions/",
        "/model-versions/{id}/transition/",
    ]:
        assert path in paths, path


# ---------------------------------------------------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------------------------------------------------


def test_the_admin_lists_and_shows_the_registry(admin_client):
    project, model, first, second = _world()
    for url in [
        "/admin/modelregistry/registeredmodel/",
        f"/admin/modelregistry/registeredmodel/{model.pk}/change/",
        "/admin/modelregistry/modelversion/",
        f"/admin/modelregistry/modelversion/{first.pk}/change/",
        "/admin/modelregistry/registeredmodelalias/",
        "/admin/modelregistry/aliaschange/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    assert "champion" in admin_client.get(f"/admin/modelregistry/registeredmodel/{model.pk}/change/").content.decode()


def test_the_admin_moves_an_alias_through_the_service(admin_client, admin_user):
    project, model, first, second = _world()
    alias = RegisteredModelAlias.objects.get()
    response = admin_client.post(
        f"/admin/modelregistry/registeredmodelalias/{alias.pk}/change/", {"model_version": second.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    alias.refresh_from_db()
    assert (alias.model_version_id, alias.set_by_id) == (second.pk, admin_user.pk)
    assert AliasChange.objects.get().actor_id == admin_user.pk


def test_staff_without_a_role_change_nothing_in_the_admin(client):
    project, model, first, second = _world()
    staff = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="modelregistry"))
    client.force_login(staff)
    before = snapshot()
    response = client.post(
        f"/admin/modelregistry/registeredmodel/{model.pk}/change/", {"name": "renamed", "description": ""}
    )
    assert response.status_code == 200 and "does not allow this" in response.content.decode()
    response = client.post(
        f"/admin/modelregistry/modelversion/{first.pk}/change/", {"description": "", "stage": "Staging"}
    )
    assert response.status_code == 200 and "does not allow this" in response.content.decode()
    assert snapshot() == before
    assert RegisteredModel.objects.get().name == "churn" and ModelVersion.objects.get(pk=first.pk).stage == "None"


@pytest.mark.parametrize(
    ("changelist", "objects"),
    [
        ("registeredmodel", lambda theirs, others: [theirs.pk, others.pk]),
        (
            "modelversion",
            lambda theirs, others: [
                ModelVersionFactory(registered_model=theirs).pk,
                ModelVersionFactory(registered_model=others).pk,
            ],
        ),
    ],
)
def test_staff_bulk_delete_goes_through_the_services_all_or_none(client, changelist, objects):
    # Staff with every registry permission own one model's project and have no role in the other's: the service
    # refuses the second, and the "delete selected" action keeps both.
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="modelregistry"))
    theirs = RegisteredModelFactory(project=ProjectFactory(owner=staff))
    others = RegisteredModelFactory()
    selected = objects(theirs, others)
    client.force_login(staff)
    before = snapshot()
    response = client.post(
        f"/admin/modelregistry/{changelist}/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_the_admin_deletes_the_selected_models_through_the_service(admin_client):
    doomed = RegisteredModelFactory(name="doomed")
    RegisteredModelFactory(name="kept")
    ModelVersionFactory(registered_model=doomed)
    response = admin_client.post(
        "/admin/modelregistry/registeredmodel/",
        {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["kept"]
    assert ModelVersion.objects.count() == 0


def test_an_alias_for_a_version_the_model_lacks_is_404_and_changes_nothing(user):
    project, model, first, second = _world()
    client = bearer_client(project.owner)
    before = snapshot()
    response = client.post(reverse("registered-model-aliases", args=[model.pk]), {"alias": "champion", "version": 99})
    assert response.status_code == 404, response.content
    assert snapshot() == before
