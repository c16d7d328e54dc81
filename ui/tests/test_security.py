import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from experiments.models import RunTag
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory, ProjectInvitationFactory, ProjectMembershipFactory
from tracking.models import LatestMetric, MetricPoint

pytestmark = pytest.mark.django_db

# Values a hostile client may store in any name, key or value; each must come back as text, never as markup.
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
]
ESCAPED = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
]


@pytest.fixture
def hostile(user):
    project = ProjectFactory(owner=user, name=HOSTILE[0], description=HOSTILE[1])
    runs = []
    for index, value in enumerate(HOSTILE):
        run = ExperimentFactory(
            project=project,
            owner=user,
            name=value,
            status="running",
            started_at=timezone.now(),
            parameters={value: value},
            tags=[f"label{index}"],
        )
        # The tracking service refuses such metric keys; written straight to the tables, as if an older version or
        # the database had let one in, so that the pages are shown not to rely on that.
        MetricPoint.objects.create(experiment=run, key=value, step=0, timestamp=1_700_000_000_000, value=1.0)
        LatestMetric.objects.create(experiment=run, key=value, step=0, timestamp=1_700_000_000_000, value=1.0)
        RunTag.objects.create(experiment=run, key=value, value=value)
        RunTag.objects.create(experiment=run, key="mlflow.source.name", value=value)
        RunTag.objects.create(experiment=run, key="mlflow.note.content", value=value)
        runs.append(run)
    return project, runs


def pages(client: Client, project, runs) -> dict[str, str]:
    every_column = {"metric": HOSTILE, "param": HOSTILE, "sort": f"-metric:{HOSTILE[1]}"}
    found = {
        "projects": client.get(reverse("ui:projects")),
        "project": client.get(reverse("ui:project", args=[project.pk]), every_column),
        "project table": client.get(
            reverse("ui:project", args=[project.pk]), every_column, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs"
        ),
    }
    for run in runs:
        found[f"run {run.name}"] = client.get(reverse("ui:run", args=[run.run_uuid]), {"chart": HOSTILE})
    for name, response in found.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in found.items()}


def test_hostile_names_keys_and_values_are_escaped_on_every_page(user, hostile):
    client = Client()
    client.force_login(user)
    shown = pages(client, *hostile)
    for name, page in shown.items():
        assert "<script>alert" not in page, name
        assert "<img src=x" not in page, name
        # No user value becomes a link target: hrefs hold ids and our own query strings only.
        assert 'href="javascript:' not in page, name
        assert 'src="javascript:' not in page, name
    # Each value shows, as text, where it belongs.
    assert all(escaped in shown["project"] for escaped in ESCAPED)
    for run, text in zip(hostile[1], [*ESCAPED, "javascript:alert(3)"], strict=True):
        page = shown[f"run {run.name}"]
        # The name, the parameter's key and value, the tag's key and value, the source, the note, the metric.
        assert page.count(text) >= 7, run.name


def test_the_note_is_text_not_html(user, hostile):
    client = Client()
    client.force_login(user)
    run = hostile[1][0]
    page = client.get(reverse("ui:run", args=[run.run_uuid])).content.decode()
    assert '<div class="note" data-testid="note">&lt;script&gt;alert(1)&lt;/script&gt;</div>' in page


def test_a_hostile_metric_key_reaches_the_history_url_encoded(user, hostile):
    client = Client()
    client.force_login(user)
    run = hostile[1][1]
    page = client.get(reverse("ui:run", args=[run.run_uuid])).content.decode()
    assert (
        f'data-url="/ui/runs/{run.run_uuid}/metric-history?key=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E"'
        in page
    )
    answer = client.get(reverse("ui:metric-history", args=[run.run_uuid]), {"key": HOSTILE[1]})
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["steps"] == [0]


@pytest.mark.parametrize(
    "url",
    [
        "/ui/",
        "/ui/signin",
        "/",
        "/ui/projects/{project}",
        "/ui/runs/{run}",
        "/ui/account",
        "/ui/tokens",
        "/ui/invitations",
        "/ui/projects/{project}/sharing",
        "/ui/models",
        "/ui/password/forgot",
        "/ui/password/reset",
        "/ui/email/confirm",
    ],
)
def test_pages_carry_a_csp_without_inline_scripts_or_styles_and_deny_framing(user, hostile, url):
    client = Client()
    if url not in ("/ui/signin", "/ui/password/forgot", "/ui/password/reset", "/ui/email/confirm"):
        client.force_login(user)
    project, runs = hostile
    response = client.get(url.format(project=project.pk, run=runs[0].run_uuid), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def _policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, each directive to its sources."""
    return {
        directive.split()[0]: directive.split()[1:]
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    }


def test_pages_have_no_inline_script_or_handler(user, hostile):
    client = Client()
    client.force_login(user)
    for name, page in pages(client, *hostile).items():
        for script in page.split("<script")[1:]:
            assert script.lstrip().startswith("src="), name
        assert " onload=" not in page and " onclick=" not in page, name


def test_signing_out_takes_a_post_with_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("ui:signout")).status_code == 403
    assert client.get(reverse("ui:projects")).status_code == 200


def test_the_api_keeps_a_csp_without_inline_scripts(api_client):
    response = api_client.get("/", HTTP_ACCEPT="application/json")
    # The directives come in no fixed order.
    assert _policy(response)["script-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_forms_pages_have_unique_ids_and_a_label_for_every_field(user):
    project = ProjectFactory(owner=user)
    ProjectMembershipFactory(project=project)
    ProjectInvitationFactory(project=project)
    ProjectInvitationFactory(invitee=user)
    client = Client()
    client.force_login(user)
    for url in [
        "/ui/account",
        "/ui/tokens",
        "/ui/invitations",
        f"/ui/projects/{project.pk}/sharing",
        "/ui/password/forgot",
        "/ui/password/reset?uid=MQ&token=x",
        "/ui/email/confirm?uid=MQ&token=x",
    ]:
        page = client.get(url).content.decode()
        ids = re.findall(r' id="([^"]+)"', page)
        assert len(ids) == len(set(ids)), url
        for field in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', page):
            hidden = re.search(rf'<input type="hidden"[^>]* id="{field}"', page)
            assert hidden or f'for="{field}"' in page, f"{url}: {field}"
