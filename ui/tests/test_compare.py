import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db


def run_in(project, name: str, *, params: dict, losses: list[float]):
    run = ExperimentFactory(project=project, owner=project.owner, name=name, parameters=params)
    metrics_record(
        experiment=run, points=[Point("loss", value, step, 1_700_000_000_000) for step, value in enumerate(losses)]
    )
    return run


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user)


@pytest.fixture
def client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_compare_shows_runs_side_by_side_marking_what_differs(client, project):
    one = run_in(project, "one", params={"lr": "0.1", "seed": "1"}, losses=[0.9, 0.4])
    two = run_in(project, "two", params={"lr": "0.01", "seed": "1"}, losses=[0.8, 0.3, 0.2])
    page = client.get(reverse("ui:compare", args=[project.pk]), {"run": [two.run_uuid, one.run_uuid]}).content.decode()
    assert '<tr class="differs"><td>lr</td><td class="value">0.01</td><td class="value">0.1</td></tr>' in page
    assert '<tr><td>seed</td><td class="value">1</td><td class="value">1</td></tr>' in page
    assert re.search(r'<td class="num">0\.2</td>\s*<td class="num">0\.4</td>', page)
    series = re.search(r'data-key="loss" data-series="([^"]*)"', page).group(1)
    assert json.loads(series.replace("&quot;", '"')) == [
        {"label": "two", "url": f"/ui/runs/{two.run_uuid}/metric-history?key=loss"},
        {"label": "one", "url": f"/ui/runs/{one.run_uuid}/metric-history?key=loss"},
    ]


def test_compare_leaves_out_runs_of_other_projects_and_unknown_ids(client, project, other_user):
    mine = run_in(project, "mine", params={}, losses=[1.0])
    elsewhere = run_in(ProjectFactory(owner=project.owner), "elsewhere", params={}, losses=[1.0])
    foreign = run_in(ProjectFactory(owner=other_user), "foreign", params={}, losses=[1.0])
    response = client.get(
        reverse("ui:compare", args=[project.pk]), {"run": [mine.run_uuid, elsewhere.run_uuid, foreign.run_uuid, "x"]}
    )
    assert [run.name for run in response.context["runs"]] == ["mine"]
    assert "Tick two runs or more" in response.content.decode()


def test_compare_of_a_project_one_may_not_see_is_404(project, other_user):
    run = run_in(project, "mine", params={}, losses=[1.0])
    client = Client()
    client.force_login(other_user)
    assert client.get(reverse("ui:compare", args=[project.pk]), {"run": [run.run_uuid]}).status_code == 404


def test_compare_escapes_hostile_names(client, project):
    one = run_in(project, "<script>alert(1)</script>", params={'"><img src=x onerror=alert(2)>': "v"}, losses=[1.0])
    two = run_in(project, "two", params={}, losses=[2.0])
    page = client.get(reverse("ui:compare", args=[project.pk]), {"run": [one.run_uuid, two.run_uuid]}).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
