"""The model registry's pages: the models the caller may see, and one model with its versions, aliases and source
runs."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from experiments.tests.factories import ExperimentFactory
from modelregistry.tests.factories import AliasFactory, ModelVersionFactory, RegisteredModelFactory
from projects.models import ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user, name="vision")


@pytest.fixture
def model(project):
    model = RegisteredModelFactory(project=project, name="classifier", description="Sorts cats from dogs.")
    run = ExperimentFactory(project=project, owner=project.owner, name="baseline")
    first = ModelVersionFactory(registered_model=model, source_run=run, run_uuid=run.run_uuid)
    second = ModelVersionFactory(registered_model=model, run_uuid="f" * 32, description="Retrained.")
    AliasFactory(model_version=second, alias="champion")
    AliasFactory(model_version=first, alias="fallback")
    model.refresh_from_db()
    return model


def client_as(who: str, project) -> Client:
    if who == "anonymous":
        return Client()
    if who == "owner":
        return signed_in(project.owner)
    if who == "other user":
        return signed_in(UserFactory())
    member = UserFactory()
    ProjectMembershipFactory(project=project, user=member, role=who)
    return signed_in(member)


# A model takes the roles of its project (modelregistry.access): any role reads; anyone else finds no such model.
MODEL_MATRIX = [
    ("anonymous", 302),
    ("other user", 404),
    (ProjectRole.VIEWER, 200),
    (ProjectRole.EDITOR, 200),
    (ProjectRole.MAINTAINER, 200),
    ("owner", 200),
]


@pytest.mark.parametrize(("who", "expected"), MODEL_MATRIX)
def test_model_page_by_role(who, expected, model, project):
    response = client_as(who, project).get(reverse("ui:model", args=[model.pk]))
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/ui/signin?next=/ui/models/{model.pk}"


@pytest.mark.parametrize(("who", "listed"), [("other user", False), (ProjectRole.VIEWER, True), ("owner", True)])
def test_models_page_lists_the_models_the_caller_may_see(who, listed, model, project):
    response = client_as(who, project).get(reverse("ui:models"))
    assert response.status_code == 200
    assert (f'<a href="/ui/models/{model.pk}">classifier</a>' in response.content.decode()) is listed


def test_models_page_shows_project_latest_version_and_aliases(model, project):
    page = signed_in(project.owner).get(reverse("ui:models")).content.decode()
    assert f'<a href="/ui/projects/{project.pk}">vision</a>' in page
    assert '<td class="num">2</td>' in page
    assert '<span class="badge">@champion → v2</span>' in page
    assert '<span class="badge">@fallback → v1</span>' in page


def test_model_page_shows_versions_with_aliases_and_links_to_their_source_runs(model, project):
    page = signed_in(project.owner).get(reverse("ui:model", args=[model.pk])).content.decode()
    assert "Sorts cats from dogs." in page
    assert "<li><code>@champion</code> → version 2</li>" in page
    run = model.versions.get(version=1).source_run
    assert f'<a href="/ui/runs/{run.run_uuid}">baseline</a>' in page
    assert f"<code>{'f' * 32}</code> (deleted)" in page
    # Newest version first.
    assert page.index('<td class="num">2</td>') < page.index('<td class="num">1</td>')


def test_a_model_of_the_same_name_in_another_project_is_named_by_its_qualified_name(model, project, other_user):
    ProjectMembershipFactory(project=project, user=other_user, role=ProjectRole.VIEWER)
    theirs = RegisteredModelFactory(project=ProjectFactory(owner=other_user), name="classifier")
    page = signed_in(other_user).get(reverse("ui:models")).content.decode()
    assert f">{project.pk}:classifier</a>" in page
    assert f">{theirs.project_id}:classifier</a>" in page


def test_hostile_model_names_and_descriptions_are_escaped(project):
    hostile = RegisteredModelFactory(project=project, name="<script>alert(1)</script>", description="<img src=x>")
    for url in [reverse("ui:models"), reverse("ui:model", args=[hostile.pk])]:
        page = signed_in(project.owner).get(url).content.decode()
        assert "<script>alert" not in page
        assert "<img src=x>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_queries_of_the_models_page_do_not_grow_with_models(project):
    client = signed_in(project.owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("ui:models")).status_code == 200
        return len(queries)

    AliasFactory(model_version=ModelVersionFactory(registered_model=RegisteredModelFactory(project=project)))
    few = count()
    for _ in range(5):
        AliasFactory(model_version=ModelVersionFactory(registered_model=RegisteredModelFactory(project=project)))
    assert count() == few
