import io

import pytest
from django.test import Client
from django.urls import reverse

from artifacts import services
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(user):
    run = ExperimentFactory(project=ProjectFactory(owner=user), owner=user, name="trained")
    for path, data in [
        ("model/weights.bin", b"0123456789"),
        ("model/config.json", b"{}"),
        ("report.html", b"<script>alert(1)</script>"),
        ('<img src=x onerror="alert(2)">.txt', b"x"),
    ]:
        services.artifact_put(actor=user, experiment=run, path=path, stream=io.BytesIO(data), length=len(data))
    return run


@pytest.fixture
def client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(run, **query) -> str:
    return reverse("ui:run-artifacts", args=[run.run_uuid]), query


def test_the_root_lists_folders_and_files_with_download_links(client, run):
    page = client.get(*url(run)).content.decode()
    assert f'<a href="/ui/runs/{run.run_uuid}/artifacts?path=model">model/</a>' in page
    assert f'<a href="/experiments/{run.pk}/artifacts/report.html" download>report.html</a>' in page
    assert '<td class="num">25\xa0bytes</td>' in page


def test_a_folder_lists_its_files_under_a_path_of_links(client, run):
    page = client.get(*url(run, path="model")).content.decode()
    assert f'<a href="/experiments/{run.pk}/artifacts/model/weights.bin" download>weights.bin</a>' in page
    assert f'/ <a href="/ui/runs/{run.run_uuid}/artifacts?path=model">model</a></p>' in page
    assert "report.html" not in page


def test_hostile_file_names_are_escaped_and_their_links_encoded(client, run):
    page = client.get(*url(run)).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;.txt</a>" in page
    assert f'href="/experiments/{run.pk}/artifacts/%3Cimg%20src=x%20onerror=%22alert(2)%22%3E.txt"' in page


def test_the_download_link_serves_the_file_to_the_signed_in_viewer(client, run):
    response = client.get(
        reverse("experiment-artifact-detail", kwargs={"experiment_pk": run.pk, "path": "report.html"})
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("path", ["../other", "/etc", "a//b", "a\\b"])
def test_a_path_outside_the_run_is_refused_with_a_page(client, run, path):
    response = client.get(*url(run, path=path))
    assert response.status_code == 400
    assert 'class="error" role="alert"' in response.content.decode()


def test_a_missing_folder_lists_nothing(client, run):
    response = client.get(*url(run, path="nothing/here"))
    assert response.status_code == 200
    assert "No files in this folder." in response.content.decode()


def test_the_run_page_links_to_its_artifacts(client, run):
    page = client.get(reverse("ui:run", args=[run.run_uuid])).content.decode()
    assert f'<a href="/ui/runs/{run.run_uuid}/artifacts">Files the run saved</a>' in page
