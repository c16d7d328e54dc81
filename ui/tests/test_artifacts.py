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


def test_the_root_lists_folders_and_files_with_preview_and_download_links(client, run):
    page = client.get(*url(run)).content.decode()
    assert f'<a href="/ui/runs/{run.run_uuid}/artifacts?path=model">model/</a>' in page
    assert f'<a href="/ui/runs/{run.run_uuid}/artifact?path=report.html">report.html</a>' in page
    assert (
        f'<a href="/experiments/{run.pk}/artifacts/report.html" download aria-label="Download report.html">Download</a>'
        in page
    )
    assert '<td class="num">25\xa0bytes</td>' in page


def test_a_folder_lists_its_files_under_a_path_of_links(client, run):
    page = client.get(*url(run, path="model")).content.decode()
    assert f'<a href="/ui/runs/{run.run_uuid}/artifact?path=model%2Fweights.bin">weights.bin</a>' in page
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


def preview(client, run, path: str):
    return client.get(reverse("ui:run-artifact", args=[run.run_uuid]), {"path": path})


def put(user, run, path: str, data: bytes) -> None:
    services.artifact_put(actor=user, experiment=run, path=path, stream=io.BytesIO(data), length=len(data))


def preview_section(response) -> str:
    assert response.status_code == 200
    return response.content.decode().split('data-testid="preview"', 1)[1].split("</section>", 1)[0]


def test_an_image_is_shown_from_its_download_route(client, run, user):
    put(user, run, "plots/loss.png", b"\x89PNG\r\n\x1a\n")
    section = preview_section(preview(client, run, "plots/loss.png"))
    assert f'<img src="/experiments/{run.pk}/artifacts/plots/loss.png" alt="loss.png">' in section


def test_json_is_indented_and_escaped(client, run, user):
    put(user, run, "metrics.json", b'{"note": "<b>x</b>", "f1": 0.9}')
    section = preview_section(preview(client, run, "metrics.json"))
    assert "<pre>{\n  &quot;note&quot;: &quot;&lt;b&gt;x&lt;/b&gt;&quot;,\n  &quot;f1&quot;: 0.9\n}</pre>" in section


def test_a_csv_file_shows_its_first_rows_as_a_table(client, run, user):
    rows = "epoch,loss\n" + "".join(f"{epoch},{1 / (epoch + 1):.3f}\n" for epoch in range(30))
    put(user, run, "history.csv", rows.encode())
    section = preview_section(preview(client, run, "history.csv"))
    assert '<thead><tr><th scope="col">epoch</th><th scope="col">loss</th></tr></thead>' in section
    assert "<tr><td>0</td><td>1.000</td></tr>" in section
    assert "<tr><td>19</td><td>0.050</td></tr>" in section
    assert "<td>20</td>" not in section
    assert "The first rows only" in section


def test_html_is_shown_as_text_never_run(client, run):
    section = preview_section(preview(client, run, "report.html"))
    assert "<pre>&lt;script&gt;alert(1)&lt;/script&gt;</pre>" in section


def test_a_long_text_shows_its_first_64_kib_and_says_so(client, run, user):
    put(user, run, "train.log", ("é" * 40_000).encode())  # 80,000 bytes, cut inside a character
    section = preview_section(preview(client, run, "train.log"))
    assert "é" * 32_768 in section and "é" * 32_769 not in section
    assert "The first 64.0\xa0KB only" in section


def test_a_binary_file_has_no_preview(client, run, user):
    put(user, run, "model/model.pkl", b"\x80\x04\x95\x00\x00binary")
    section = preview_section(preview(client, run, "model/model.pkl"))
    assert 'data-kind="none"' in section
    assert "No preview for this kind of file: download it." in section


@pytest.mark.parametrize(
    ("who", "path", "expected"), [("other", "report.html", 404), ("owner", "nothing.txt", 404), ("owner", "../x", 400)]
)
def test_a_preview_the_caller_may_not_see_is_404(who, path, expected, run, other_user, client):
    if who == "other":
        client = Client()
        client.force_login(other_user)
    assert preview(client, run, path).status_code == expected
