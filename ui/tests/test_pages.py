import datetime
import json
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from experiments.models import RunTag
from experiments.tests.factories import ExperimentFactory
from projects.models import ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def log(run, key: str, values: list[float]) -> None:
    metrics_record(
        experiment=run, points=[Point(key, value, step, 1_700_000_000_000 + step) for step, value in enumerate(values)]
    )


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user, name="vision")


@pytest.fixture
def run(project, user):
    run = ExperimentFactory(project=project, owner=user, name="baseline", status="running", started_at=timezone.now())
    log(run, "loss", [0.9, 0.5, 0.25])
    return run


def client_as(who: str, project, other_user) -> Client:
    """A client for `who`: anonymous, the owner, another user, or a member of `project` with that role."""
    if who == "anonymous":
        return Client()
    if who == "owner":
        return signed_in(project.owner)
    if who == "other user":
        return signed_in(other_user)
    member = UserFactory()
    ProjectMembershipFactory(project=project, user=member, role=who)
    return signed_in(member)


# Every page of a project, by who asks: anonymous callers are sent to sign in, a project one has no role in does not
# exist for them, and every role reads.
PAGE_MATRIX = [
    ("anonymous", 302),
    ("owner", 200),
    ("other user", 404),
    (ProjectRole.VIEWER, 200),
    (ProjectRole.EDITOR, 200),
    (ProjectRole.MAINTAINER, 200),
]


@pytest.mark.parametrize(("who", "expected"), PAGE_MATRIX)
@pytest.mark.parametrize("page", ["project", "run", "metric-history", "artifacts"])
def test_project_pages_by_role(page, who, expected, project, run, other_user):
    url = {
        "project": reverse("ui:project", args=[project.pk]),
        "run": reverse("ui:run", args=[run.run_uuid]),
        "metric-history": reverse("ui:metric-history", args=[run.run_uuid]) + "?key=loss",
        "artifacts": reverse("ui:run-artifacts", args=[run.run_uuid]),
    }[page]
    response = client_as(who, project, other_user).get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/ui/signin?next=")


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("owner", 200), ("other user", 200)])
def test_projects_page_by_caller(who, expected, project, other_user):
    response = client_as(who, project, other_user).get(reverse("ui:projects"))
    assert response.status_code == expected


def test_projects_page_lists_only_the_callers_projects_with_role_runs_and_expiration(project, run, other_user):
    shared = ProjectFactory(owner=other_user, name="shared one", expiration_date=datetime.date(2099, 1, 31))
    ProjectMembershipFactory(project=shared, user=project.owner, role=ProjectRole.EDITOR)
    ProjectFactory(owner=other_user, name="not mine")
    page = signed_in(project.owner).get(reverse("ui:projects")).content.decode()
    assert "vision" in page
    assert "shared one" in page
    assert "not mine" not in page
    assert "2099-01-31" in page
    assert "<td>editor</td>" in page
    assert '<td class="num">1</td>' in page


def test_projects_page_says_the_same_things_in_mlflows_words(user):
    page = signed_in(user).get(reverse("ui:projects")).content.decode()
    words = page.split('data-testid="words"', 1)[1].split("</details>", 1)[0]
    assert (
        "<tr><td>project (<code>/projects/{id}</code>)</td><td>experiment (<code>experiment_id</code>)</td></tr>"
        in words
    )
    assert "<td>status: draft, running, completed, failed, cancelled</td>" in words
    assert "<td>SCHEDULED, RUNNING, FINISHED, FAILED, KILLED</td>" in words


def test_unknown_project_and_run_answer_404_pages(user):
    client = signed_in(user)
    assert client.get(reverse("ui:project", args=[999999])).status_code == 404
    assert client.get(reverse("ui:run", args=["0" * 32])).status_code == 404


def test_every_page_shows_the_current_user(project, run):
    client = signed_in(project.owner)
    for url in [
        reverse("ui:projects"),
        reverse("ui:project", args=[project.pk]),
        reverse("ui:run", args=[run.run_uuid]),
    ]:
        page = client.get(url).content.decode()
        assert f'data-testid="current-user">{project.owner.username}</span>' in page
        assert 'action="/ui/signout"' in page


def test_sign_in_with_username_or_email_sets_a_session_and_goes_to_projects(user):
    for name in [user.username, user.email]:
        client = Client(enforce_csrf_checks=True)
        page = client.get(reverse("ui:signin"))
        token = page.cookies["csrftoken"].value
        response = client.post(
            reverse("ui:signin"), {"username": name, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        assert response["Location"] == "/ui/"
        assert int(client.session[SESSION_KEY]) == user.pk


def test_sign_in_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("ui:signin"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_sign_in_follows_next_on_this_site_only(user, project):
    client = Client()
    target = reverse("ui:project", args=[project.pk])
    response = client.post(reverse("ui:signin"), {"username": user.username, "password": PASSWORD, "next": target})
    assert response["Location"] == target
    client = Client()
    response = client.post(
        reverse("ui:signin"), {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/ui/"


def test_failed_sign_ins_are_throttled(settings, user):
    settings.AUTH_THROTTLE_RATE = "3/min"
    client = Client()
    answers = [
        client.post(reverse("ui:signin"), {"username": user.username, "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    refused = client.post(reverse("ui:signin"), {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert SESSION_KEY not in client.session


def test_sign_out_ends_the_session(user):
    client = signed_in(user)
    response = client.post(reverse("ui:signout"))
    assert response.status_code == 302
    assert response["Location"] == "/ui/signin"
    assert client.get(reverse("ui:projects")).status_code == 302


def test_a_browser_at_the_root_gets_the_page_that_follows_mlflow_links_and_api_clients_keep_json(client):
    page = client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert re.search(r"<script src=\"/static/ui/js/home\.[0-9a-f]+\.js\" defer></script>", page.content.decode())
    for accept in ["application/json", "*/*"]:
        answer = client.get("/", HTTP_ACCEPT=accept)
        assert answer["Content-Type"] == "application/json"
        assert answer.json()["name"] == "Registry"


def test_run_page_shows_status_times_owner_source_params_metrics_tags_and_note(project, run):
    run.parameters = {"lr": "0.01", "epochs": "20"}
    run.save()
    RunTag.objects.create(experiment=run, key="mlflow.source.name", value="train.py")
    RunTag.objects.create(experiment=run, key="mlflow.source.git.commit", value="abc123")
    RunTag.objects.create(experiment=run, key="team", value="vision")
    RunTag.objects.create(experiment=run, key="mlflow.note.content", value="line one\n**not bold**")
    page = signed_in(project.owner).get(reverse("ui:run", args=[run.run_uuid])).content.decode()
    assert "Running" in page
    assert run.run_uuid in page
    assert project.owner.username in page
    assert "<code>train.py</code>" in page
    assert "<code>abc123</code>" in page
    assert '<td>lr</td><td class="value">0.01</td>' in page
    assert '<td>loss</td><td class="num">0.25</td>' in page
    assert '<td>team</td><td class="value">vision</td>' in page
    assert '<div class="note" data-testid="note">line one\n**not bold**</div>' in page
    assert f'data-url="/ui/runs/{run.run_uuid}/metric-history?key=loss"' in page


def test_metric_history_answers_every_point_of_a_short_history(project, run):
    answer = signed_in(project.owner).get(reverse("ui:metric-history", args=[run.run_uuid]), {"key": "loss"})
    assert answer.json() == {
        "key": "loss",
        "steps": [0, 1, 2],
        "times": [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002],
        "values": [0.9, 0.5, 0.25],
        "thinned": False,
    }


@pytest.mark.parametrize(
    ("status", "query", "charts", "checked"),
    [
        ("running", {}, '<div class="charts" data-x="step" data-live="10">', "step"),
        ("running", {"x": "time"}, '<div class="charts" data-x="time" data-live="10">', "time"),
        ("completed", {"x": "time"}, '<div class="charts" data-x="time">', "time"),
        ("completed", {"x": "bogus"}, '<div class="charts" data-x="step">', "step"),
    ],
)
def test_charts_take_step_or_time_as_x_and_follow_a_running_run(project, run, status, query, charts, checked):
    run.status = status
    run.save()
    page = signed_in(project.owner).get(reverse("ui:run", args=[run.run_uuid]), query).content.decode()
    assert charts in page
    assert f'<input type="radio" name="x" value="{checked}" checked>' in page


def test_metric_history_thins_a_long_history_to_1000_evenly_spaced_points_keeping_first_and_last(project, run):
    log(run, "long", [float(step) for step in range(2500)])
    answer = signed_in(project.owner).get(reverse("ui:metric-history", args=[run.run_uuid]), {"key": "long"}).json()
    assert answer["thinned"] is True
    assert len(answer["steps"]) <= 1000
    assert answer["steps"][:4] == [0, 3, 6, 9]
    assert answer["steps"][-2:] == [2496, 2499]
    assert answer["values"] == [float(step) for step in answer["steps"]]


def test_metric_history_shows_nan_and_infinities_as_gaps(project, run):
    log(run, "odd", [1.0, float("nan"), float("inf"), 2.0])
    answer = signed_in(project.owner).get(reverse("ui:metric-history", args=[run.run_uuid]), {"key": "odd"})
    assert json.loads(answer.content) == {
        "key": "odd",
        "steps": [0, 1, 2, 3],
        "times": [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_000_003],
        "values": [1.0, None, None, 2.0],
        "thinned": False,
    }


def test_queries_of_the_projects_page_do_not_grow_with_projects(user, other_user):
    client = signed_in(user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("ui:projects")).status_code == 200
        return len(queries)

    ProjectFactory(owner=user)
    few = count()
    for _ in range(10):
        mine = ProjectFactory(owner=user, expiration_date=datetime.date(2099, 1, 1))
        ExperimentFactory(project=mine, owner=user)
        shared = ProjectFactory(owner=other_user)
        ProjectMembershipFactory(project=shared, user=user, role=ProjectRole.VIEWER)
    assert count() == few
