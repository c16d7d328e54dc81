"""The number of SQL queries each read route makes: fixed, whatever the page size and however many rows there are.

Each request authenticates with a real JWT bearer token, so the count includes the user lookup. A list is the user, the
count (`X-Total-Count`) and the page; a detail is the user and the row. Routes nested under a parent (a project's
experiments and members, an experiment's metric history) also look the parent up, to answer 403 or 404 for it.
"""

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from accounts.tests.factories import UserFactory
from experiments.models import RunTag
from experiments.tests.factories import ExperimentFactory
from projects.models import ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from tokens.tests.factories import PersonalAccessTokenFactory
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db


def add_rows(user, count: int) -> dict:
    """`count` rows of every kind `user` can read, each experiment with results and run tags; the ids to read."""
    other = UserFactory()
    own_project = ProjectFactory(owner=user)
    shared_project = ProjectFactory(owner=other)
    ProjectMembershipFactory(project=shared_project, user=user, role=ProjectRole.EDITOR)
    expired = ProjectFactory(owner=other)
    ProjectMembershipFactory(project=expired, user=user, expires_at=timezone.now() - timedelta(days=1))
    experiments = []
    for index in range(count):
        ProjectFactory(owner=user)
        ProjectMembershipFactory(project=own_project)
        PersonalAccessTokenFactory(user=user)
        for project, owner in ((own_project, user), (shared_project, other), (None, user)):
            experiment = ExperimentFactory(
                owner=owner, project=project, results={"loss": 0.5 + index, "nan": math.nan, "up": math.inf}
            )
            RunTag.objects.create(experiment=experiment, key="mlflow.user", value=owner.username)
            RunTag.objects.create(experiment=experiment, key="note", value=f"run {index}")
            experiments.append(experiment)
        # Rows the caller may not see: another user's private experiment, and one in a lapsed membership's project.
        ExperimentFactory(owner=other)
        ExperimentFactory(owner=other, project=expired)
    metrics_record(
        experiment=experiments[0],
        points=[Point(key="loss", value=1.0 / (step + 1), step=step, timestamp=step) for step in range(count)],
    )
    token = PersonalAccessTokenFactory(user=user)
    member = ProjectMembershipFactory(project=own_project)
    return {
        "project": own_project.pk,
        "shared_project": shared_project.pk,
        "experiment": experiments[0].pk,
        "shared_experiment": experiments[1].pk,
        "token": token.pk,
        "member": member.user_id,
    }


# Each read route: its URL from the ids above, and the most queries it may make.
LISTS = {
    "projects": (lambda ids: reverse("project-list"), 3),
    "experiments": (lambda ids: reverse("experiment-list"), 3),
    "experiments by status": (lambda ids: reverse("experiment-list") + "?status=draft&ordering=-created_at", 3),
    "experiments searched": (lambda ids: reverse("experiment-list") + "?search=experiment", 3),
    "experiments of a project": (lambda ids: reverse("experiment-list") + f"?project={ids['shared_project']}", 3),
    "tokens": (lambda ids: reverse("personal-access-token-list"), 3),
    "project experiments": (lambda ids: reverse("project-experiment-list", args=[ids["project"]]), 4),
    "members": (lambda ids: reverse("project-member-list", args=[ids["project"]]), 4),
    "metric history": (lambda ids: reverse("experiment-metric-list", args=[ids["experiment"]]) + "?key=loss", 4),
}
DETAILS = {
    "project": (lambda ids: reverse("project-detail", args=[ids["project"]]), 2),
    "shared project": (lambda ids: reverse("project-detail", args=[ids["shared_project"]]), 2),
    "experiment": (lambda ids: reverse("experiment-detail", args=[ids["experiment"]]), 2),
    "shared experiment": (lambda ids: reverse("experiment-detail", args=[ids["shared_experiment"]]), 2),
    "token": (lambda ids: reverse("personal-access-token-detail", args=[ids["token"]]), 2),
    "member": (lambda ids: reverse("project-member-detail", args=[ids["project"], ids["member"]]), 3),
}


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status.HTTP_200_OK, response.content
    return len(captured.captured_queries)


def with_limit(url: str, limit: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}limit={limit}"


@pytest.mark.parametrize("route", list(LISTS))
def test_a_list_makes_the_same_few_queries_whatever_the_page_size_and_row_count(client_for, user, route):
    url_of, most = LISTS[route]
    ids = add_rows(user, 2)
    client = client_for(user)
    one = queries_of(client, with_limit(url_of(ids), 1))
    small = queries_of(client, with_limit(url_of(ids), 50))
    add_rows(user, 5)
    large = queries_of(client, with_limit(url_of(ids), 50))
    assert (one, small, large) == (one, one, one)
    assert one <= most


@pytest.mark.parametrize("route", list(DETAILS))
def test_a_detail_makes_the_same_few_queries_whatever_the_row_count(client_for, user, route):
    url_of, most = DETAILS[route]
    ids = add_rows(user, 1)
    client = client_for(user)
    small = queries_of(client, url_of(ids))
    add_rows(user, 4)
    large = queries_of(client, url_of(ids))
    assert small == large
    assert small <= most


def test_the_experiment_list_shows_results_and_run_tags_read_in_its_own_query(client_for, user):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(
        owner=user, project=project, results={"loss": 0.25, "nan": math.nan, "up": math.inf, "down": -math.inf}
    )
    RunTag.objects.create(experiment=experiment, key="mlflow.user", value="ada")
    RunTag.objects.create(experiment=experiment, key="note", value='quotes " and \\ and ünïcode')
    ExperimentFactory(owner=user)
    client = client_for(user)
    for url in (reverse("experiment-list"), reverse("project-experiment-list", args=[project.pk])):
        response = client.get(url)
        assert response.status_code == status.HTTP_200_OK
        first = response.json()[0]
        assert first["results"] == {"loss": 0.25, "nan": "NaN", "up": "Infinity", "down": "-Infinity"}
        assert first["run_tags"] == {"mlflow.user": "ada", "note": 'quotes " and \\ and ünïcode'}
    response = client.get(reverse("experiment-list") + "?project=" + str(project.pk) + "&limit=1")
    assert response.headers["X-Total-Count"] == "1"
    second = client.get(reverse("experiment-list")).json()[1]
    assert (second["results"], second["run_tags"]) == ({}, {})
    detail = client.get(reverse("experiment-detail", args=[experiment.pk])).json()
    assert detail["results"] == {"loss": 0.25, "nan": "NaN", "up": "Infinity", "down": "-Infinity"}
    assert detail["run_tags"] == {"mlflow.user": "ada", "note": 'quotes " and \\ and ünïcode'}


def test_the_count_of_a_list_computes_neither_the_role_nor_the_results(client_for, user):
    add_rows(user, 1)
    client = client_for(user)
    for url in (reverse("experiment-list"), reverse("project-list")):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == status.HTTP_200_OK
        counts = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
        assert len(counts) == 1
        assert "CASE" not in counts[0]
        assert "JSON" not in counts[0].upper()
        assert "experiment_count" not in counts[0]
