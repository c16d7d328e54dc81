from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient

from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import Project
from projects.tests.factories import ProjectFactory
from registry.tests.support import (
    EXPERIMENTS_URL,
    PROJECTS_URL,
    errors,
    experiment_url,
    ids_in_order,
    in_days,
    project_experiments_url,
    project_url,
)

pytestmark = pytest.mark.django_db

S = Experiment.Status


def _row(project: Project) -> dict | None:
    """The project as the database holds it, to show that a refused request changed nothing."""
    return Project.objects.filter(pk=project.pk).values().first()


# ---------------------------------------------------------------------------------------------------------------------
# Anonymous callers and missing ids (who may do what, by role: the permission tables in test_sharing_api.py)
# ---------------------------------------------------------------------------------------------------------------------

# (route, method, URL of the project's id, body)
ROUTES = [
    ("list", "get", lambda pk: PROJECTS_URL, None),
    ("create", "post", lambda pk: PROJECTS_URL, {"name": "new"}),
    ("retrieve", "get", project_url, None),
    ("update", "put", project_url, {"name": "replaced", "description": "d", "expiration_date": None}),
    ("partial_update", "patch", project_url, {"name": "changed"}),
    ("destroy", "delete", project_url, None),
    ("experiments", "get", project_experiments_url, None),
]
DETAIL_ROUTES = [route for route in ROUTES if route[0] not in {"list", "create"}]


@pytest.fixture
def project(user):
    project = ProjectFactory(
        owner=user, name="warehouse", description="the data warehouse", expiration_date=in_days(30)
    )
    ExperimentFactory(owner=user, project=project)
    return project


@pytest.mark.parametrize(("route", "method", "url", "body"), ROUTES, ids=[route[0] for route in ROUTES])
def test_anonymous_gets_401_on_every_route(api_client, project, route, method, url, body):
    before = _row(project)
    response = getattr(api_client, method)(url(project.pk), body)
    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _row(project) == before
    assert Project.objects.count() == 1


@pytest.mark.parametrize(("route", "method", "url", "body"), DETAIL_ROUTES, ids=[route[0] for route in DETAIL_ROUTES])
def test_missing_project_answers_404_on_every_detail_route(user_client, project, route, method, url, body):
    response = getattr(user_client, method)(url(project.pk + 1000), body)
    assert response.status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("url", [project_url, project_experiments_url])
def test_id_too_large_for_the_database_answers_404(user_client, url):
    assert user_client.get(url(10**30)).status_code == status.HTTP_404_NOT_FOUND


def test_non_numeric_id_answers_404(user_client):
    assert user_client.get(f"{PROJECTS_URL}abc/").status_code == status.HTTP_404_NOT_FOUND
    assert user_client.get(f"{PROJECTS_URL}abc/experiments/").status_code == status.HTTP_404_NOT_FOUND


def test_other_user_lists_only_their_own_projects(other_user, other_client, project):
    theirs = ProjectFactory(owner=other_user)
    response = other_client.get(PROJECTS_URL)
    assert ids_in_order(response) == [theirs.pk]
    assert response["X-Total-Count"] == "1"


def test_filters_never_reveal_other_users_projects(other_client, project):
    params = {"search": "warehouse", "expired": "false", "expires_after": in_days(1).isoformat()}
    assert ids_in_order(other_client.get(PROJECTS_URL, params)) == []


def test_owner_in_the_body_is_ignored_on_create(user, other_user, user_client):
    body = {"name": "mine", "owner": other_user.pk, "id": 999, "experiment_count": 7}
    response = user_client.post(PROJECTS_URL, body, format="json")
    assert response.status_code == status.HTTP_201_CREATED
    project = Project.objects.get()
    assert project.owner == user
    assert project.pk != 999
    assert response.json()["owner"] == user.pk
    assert response.json()["experiment_count"] == 0


@pytest.mark.parametrize("method", ["put", "patch"])
def test_owner_in_the_body_is_ignored_on_update(user, other_user, user_client, project, method):
    body = {"name": "kept", "owner": other_user.pk, "created_at": "2000-01-01T00:00:00Z", "experiment_count": 9}
    response = getattr(user_client, method)(project_url(project.pk), body)
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["experiment_count"] == 1
    project.refresh_from_db()
    assert project.owner == user
    assert project.created_at.year != 2000


def test_the_same_project_is_403_to_one_user_and_200_to_its_owner(client_for, other_user, project):
    assert client_for(other_user).get(project_url(project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client_for(project.owner).get(project_url(project.pk)).status_code == status.HTTP_200_OK


# ---------------------------------------------------------------------------------------------------------------------
# The seed flow
# ---------------------------------------------------------------------------------------------------------------------


def test_seed_flow_over_http():
    client = APIClient()
    password = "correct-horse-battery-9"
    registered = client.post(
        "/auth/register", {"username": "alice", "email": "alice@example.com", "password": password}, format="json"
    )
    assert registered.status_code == status.HTTP_201_CREATED
    token = client.generic(
        "POST",
        "/auth/token",
        urlencode({"username": "alice", "password": password}),
        content_type="application/x-www-form-urlencoded",
    )
    assert token.status_code == status.HTTP_200_OK
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")

    expires = in_days(30).isoformat()
    created = client.post(PROJECTS_URL, {"name": "warehouse", "expiration_date": expires}, format="json")
    assert created.status_code == status.HTTP_201_CREATED
    project_id = created.json()["id"]
    assert created.json()["expiration_date"] == expires
    assert created["Location"].endswith(project_url(project_id))

    listed = client.get(PROJECTS_URL)
    assert listed.status_code == status.HTTP_200_OK
    assert [row["name"] for row in listed.json()] == ["warehouse"]

    patched = client.patch(project_url(project_id), {"description": "the data warehouse"}, format="json")
    assert patched.status_code == status.HTTP_200_OK
    assert patched.json()["description"] == "the data warehouse"

    assert client.delete(project_url(project_id)).status_code == status.HTTP_204_NO_CONTENT

    empty = client.get(PROJECTS_URL)
    assert empty.status_code == status.HTTP_200_OK
    assert empty.json() == []


# ---------------------------------------------------------------------------------------------------------------------
# Create, read, update, delete
# ---------------------------------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_project_and_its_location(user, user_client):
    body = {"name": "  warehouse  ", "description": "the data warehouse", "expiration_date": in_days(30).isoformat()}
    response = user_client.post(PROJECTS_URL, body)
    assert response.status_code == status.HTTP_201_CREATED
    data = response.json()
    assert response["Location"] == f"http://testserver{project_url(data['id'])}"
    assert set(data) == {
        "id",
        "name",
        "description",
        "expiration_date",
        "owner",
        "experiment_count",
        "role",
        "lifecycle_stage",
        "created_at",
        "updated_at",
    }
    assert data["lifecycle_stage"] == "active"
    assert (data["name"], data["description"], data["expiration_date"]) == (
        "warehouse",
        "the data warehouse",
        in_days(30).isoformat(),
    )
    assert (data["owner"], data["experiment_count"], data["role"]) == (user.pk, 0, "owner")


def test_create_with_only_a_name_has_no_description_and_no_expiration(user_client):
    data = user_client.post(PROJECTS_URL, {"name": "warehouse"}).json()
    assert (data["description"], data["expiration_date"]) == ("", None)


def test_a_form_encoded_create_is_415_json_only(user_client):
    response = user_client.post(PROJECTS_URL, {"name": "form", "expiration_date": ""}, format="multipart")
    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    assert not Project.objects.exists()


def test_retrieve_shows_the_project_with_its_experiment_count(user, user_client, project):
    ExperimentFactory(owner=user, project=project)
    data = user_client.get(project_url(project.pk)).json()
    assert (data["id"], data["name"], data["experiment_count"]) == (project.pk, "warehouse", 2)


def test_put_replaces_the_editable_fields(user_client, project):
    body = {"name": "lake", "description": "d", "expiration_date": in_days(3).isoformat()}
    response = user_client.put(project_url(project.pk), body)
    assert response.status_code == status.HTTP_200_OK
    project.refresh_from_db()
    assert (project.name, project.description, project.expiration_date) == ("lake", "d", in_days(3))


def test_put_without_a_name_is_400(user_client, project):
    before = _row(project)
    assert "name" in errors(user_client.put(project_url(project.pk), {"description": "d"}))
    assert _row(project) == before


def test_patch_changes_only_what_is_sent(user_client, project):
    response = user_client.patch(project_url(project.pk), {"description": "notes"})
    assert response.status_code == status.HTTP_200_OK
    project.refresh_from_db()
    assert (project.name, project.description, project.expiration_date) == ("warehouse", "notes", in_days(30))


def test_patch_may_clear_the_expiration_date(user_client, project):
    response = user_client.patch(project_url(project.pk), {"expiration_date": None})
    assert response.status_code == status.HTTP_200_OK
    assert Project.objects.get(pk=project.pk).expiration_date is None


def test_update_answers_with_the_new_updated_at(user_client, project):
    before = project.updated_at
    data = user_client.patch(project_url(project.pk), {"description": "notes"}).json()
    assert datetime.fromisoformat(data["updated_at"]) > before


def test_delete_answers_204_and_removes_the_row(user_client, project):
    assert user_client.delete(project_url(project.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert not Project.objects.filter(pk=project.pk).exists()
    assert user_client.delete(project_url(project.pk)).status_code == status.HTTP_404_NOT_FOUND


def test_deleting_a_project_keeps_its_experiments_without_a_project(user, user_client, project):
    experiments = [*Experiment.objects.filter(project=project), ExperimentFactory(owner=user, project=project)]
    assert user_client.delete(project_url(project.pk)).status_code == status.HTTP_204_NO_CONTENT
    for experiment in experiments:
        response = user_client.get(experiment_url(experiment.pk))
        assert response.status_code == status.HTTP_200_OK
        assert response.json()["project"] is None


def test_routes_answer_with_and_without_the_trailing_slash(user_client, project):
    assert user_client.get(PROJECTS_URL.rstrip("/")).status_code == status.HTTP_200_OK
    assert user_client.get(project_url(project.pk).rstrip("/")).status_code == status.HTTP_200_OK
    assert user_client.get(project_experiments_url(project.pk).rstrip("/")).status_code == status.HTTP_200_OK


# ---------------------------------------------------------------------------------------------------------------------
# Validation: name and expiration date
# ---------------------------------------------------------------------------------------------------------------------


def test_name_of_255_characters_is_accepted(user_client):
    assert user_client.post(PROJECTS_URL, {"name": "n" * 255}).status_code == status.HTTP_201_CREATED


@pytest.mark.parametrize("name", ["n" * 256, "", "   ", "\t\n"], ids=["256 characters", "empty", "spaces", "tab"])
def test_bad_name_is_400(user_client, name):
    assert "name" in errors(user_client.post(PROJECTS_URL, {"name": name}))
    assert not Project.objects.exists()


@pytest.mark.parametrize("name", [None, {}, []])
def test_name_of_the_wrong_type_is_400(user_client, name):
    assert "name" in errors(user_client.post(PROJECTS_URL, {"name": name}, format="json"))


def test_missing_name_is_400(user_client):
    assert "name" in errors(user_client.post(PROJECTS_URL, {"description": "no name"}))


def test_name_is_trimmed(user_client):
    assert user_client.post(PROJECTS_URL, {"name": "\t warehouse \n"}).json()["name"] == "warehouse"


def test_patch_to_a_blank_or_long_name_is_400(user_client, project):
    before = _row(project)
    assert "name" in errors(user_client.patch(project_url(project.pk), {"name": "  "}))
    assert "name" in errors(user_client.patch(project_url(project.pk), {"name": "n" * 256}))
    assert _row(project) == before


def test_two_owners_may_share_a_name(user_client, other_client):
    assert user_client.post(PROJECTS_URL, {"name": "warehouse"}).status_code == status.HTTP_201_CREATED
    assert other_client.post(PROJECTS_URL, {"name": "Warehouse"}).status_code == status.HTTP_201_CREATED


@pytest.mark.parametrize("name", ["warehouse", "WAREHOUSE", "Warehouse", " warehouse "])
def test_a_name_the_owner_already_uses_in_any_case_is_400(user_client, project, name):
    assert errors(user_client.post(PROJECTS_URL, {"name": name})) == {
        "name": ["You already have a project with this name."]
    }
    assert Project.objects.count() == 1


def test_patch_to_a_clashing_name_is_400(user, user_client, project):
    other = ProjectFactory(owner=user, name="lake")
    before = _row(other)
    assert "name" in errors(user_client.patch(project_url(other.pk), {"name": "WareHouse"}))
    assert _row(other) == before


def test_a_project_may_keep_its_name_or_change_its_case(user_client, project):
    assert user_client.put(project_url(project.pk), {"name": "warehouse"}).status_code == status.HTTP_200_OK
    assert user_client.patch(project_url(project.pk), {"name": "Warehouse"}).status_code == status.HTTP_200_OK
    assert Project.objects.get(pk=project.pk).name == "Warehouse"


def test_a_name_clash_that_slips_past_the_checks_is_still_a_400(user_client, project, monkeypatch):
    # Two concurrent requests both pass the model's validation before either inserts;
    # the database constraint refuses the second, and the answer is a 400, not a 500.
    monkeypatch.setattr(Project, "full_clean", lambda self, *args, **kwargs: None)
    response = user_client.post(PROJECTS_URL, {"name": "WAREHOUSE"})
    assert errors(response) == {"name": ["You already have a project with this name."]}
    assert Project.objects.count() == 1


def test_a_rename_clash_that_slips_past_the_checks_is_still_a_400(user, user_client, project, monkeypatch):
    other = ProjectFactory(owner=user, name="lake")
    monkeypatch.setattr(Project, "full_clean", lambda self, *args, **kwargs: None)
    response = user_client.patch(project_url(other.pk), {"name": "Warehouse"})
    assert errors(response) == {"name": ["You already have a project with this name."]}
    assert Project.objects.get(pk=other.pk).name == "lake"


def test_a_new_project_may_not_be_expired_already(user_client):
    response = user_client.post(PROJECTS_URL, {"name": "late", "expiration_date": in_days(-1).isoformat()})
    assert errors(response) == {"expiration_date": ["A new project cannot be already expired."]}
    assert not Project.objects.exists()


def test_a_new_project_may_expire_today(user_client):
    response = user_client.post(PROJECTS_URL, {"name": "today", "expiration_date": in_days(0).isoformat()})
    assert response.status_code == status.HTTP_201_CREATED


def test_an_existing_project_may_be_given_a_past_expiration_date(user_client, project):
    # The rule is about creating: an owner may record that a project has in fact already ended.
    response = user_client.patch(project_url(project.pk), {"expiration_date": in_days(-5).isoformat()})
    assert response.status_code == status.HTTP_200_OK
    assert Project.objects.get(pk=project.pk).is_expired


@pytest.mark.parametrize("value", ["tomorrow", "2024-02-30", "99999-01-01", "2024-01-01T00:00:00Z", 20240101, []])
def test_junk_expiration_date_is_400(user_client, value):
    assert "expiration_date" in errors(user_client.post(PROJECTS_URL, {"name": "x", "expiration_date": value}))


@pytest.mark.parametrize("value", [None, []])
def test_description_of_the_wrong_type_is_400(user_client, value):
    assert "description" in errors(user_client.post(PROJECTS_URL, {"name": "x", "description": value}, format="json"))


# ---------------------------------------------------------------------------------------------------------------------
# Experiments in projects
# ---------------------------------------------------------------------------------------------------------------------


def test_an_experiment_may_be_created_in_the_callers_project(user_client, project):
    response = user_client.post(EXPERIMENTS_URL, {"name": "baseline", "project": project.pk})
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json()["project"] == project.pk
    assert Experiment.objects.get(pk=response.json()["id"]).project == project


def test_an_experiment_may_not_be_created_in_someone_elses_project(other_client, project):
    response = other_client.post(EXPERIMENTS_URL, {"name": "intruder", "project": project.pk})
    assert set(errors(response)) == {"project"}
    assert Experiment.objects.count() == 1


def test_an_experiment_may_not_be_created_in_a_missing_project(user_client, project):
    assert set(errors(user_client.post(EXPERIMENTS_URL, {"name": "x", "project": project.pk + 1000}))) == {"project"}


def test_an_experiment_may_not_be_moved_into_someone_elses_project(other_user, other_client, project):
    experiment = ExperimentFactory(owner=other_user)
    response = other_client.patch(experiment_url(experiment.pk), {"project": project.pk})
    assert set(errors(response)) == {"project"}
    assert Experiment.objects.get(pk=experiment.pk).project is None


def test_an_experiment_may_be_moved_between_the_callers_projects_and_out(user, user_client, project):
    experiment = Experiment.objects.get(project=project)
    other = ProjectFactory(owner=user)
    assert user_client.patch(experiment_url(experiment.pk), {"project": other.pk}).json()["project"] == other.pk
    assert user_client.patch(experiment_url(experiment.pk), {"project": None}).json()["project"] is None
    assert Experiment.objects.get(pk=experiment.pk).project is None


def test_experiment_count_is_0_then_2(user, user_client):
    project = ProjectFactory(owner=user)
    ExperimentFactory(owner=user)
    assert user_client.get(project_url(project.pk)).json()["experiment_count"] == 0
    ExperimentFactory.create_batch(2, owner=user, project=project)
    assert user_client.get(project_url(project.pk)).json()["experiment_count"] == 2
    assert user_client.get(PROJECTS_URL).json()[0]["experiment_count"] == 2


def test_experiments_list_filters_by_project(user, user_client, project):
    ExperimentFactory(owner=user)
    ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    expected = list(Experiment.objects.filter(project=project).values_list("pk", flat=True))
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"project": project.pk})) == expected


def test_experiments_list_filtered_by_a_project_the_caller_cannot_see_is_empty(other_user, user_client, project):
    theirs = ProjectFactory(owner=other_user)
    ExperimentFactory(owner=other_user, project=theirs)
    response = user_client.get(EXPERIMENTS_URL, {"project": theirs.pk})
    assert (response.status_code, response.json()) == (status.HTTP_200_OK, [])


@pytest.mark.parametrize("value", ["abc", 0, 10**30])
def test_experiments_list_project_filter_refuses_what_is_no_id(user_client, value):
    assert "project" in errors(user_client.get(EXPERIMENTS_URL, {"project": value}))


def test_list_queries_do_not_grow_with_projects_or_experiments(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    with django_assert_max_num_queries(5) as one_project:
        assert len(user_client.get(PROJECTS_URL).json()) == 1
    for project in ProjectFactory.create_batch(9, owner=user):
        ExperimentFactory.create_batch(3, owner=user, project=project)
    with django_assert_num_queries(len(one_project)):
        data = user_client.get(PROJECTS_URL).json()
    assert len(data) == 10
    assert sorted(row["experiment_count"] for row in data) == [1] + [3] * 9


def test_detail_reads_in_a_constant_number_of_queries(user, user_client, project, django_assert_max_num_queries):
    ExperimentFactory.create_batch(5, owner=user, project=project)
    with django_assert_max_num_queries(3):
        assert user_client.get(project_url(project.pk)).json()["experiment_count"] == 6


# ---------------------------------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def by_expiration(user) -> dict[str, Project]:
    """Projects that expired a week ago, expired yesterday, expire today, next week, and never."""
    projects = {
        "today": ProjectFactory(owner=user, name="today", expiration_date=in_days(0)),
        "next week": ProjectFactory(owner=user, name="next week", expiration_date=in_days(7)),
        "never": ProjectFactory(owner=user, name="never"),
    }
    for name, days in (("last week", -7), ("yesterday", -1)):
        projects[name] = ProjectFactory(owner=user, name=name, expiration_date=in_days(0))
        Project.objects.filter(pk=projects[name].pk).update(expiration_date=in_days(days))
    return projects


def _names(response) -> set[str]:
    assert response.status_code == status.HTTP_200_OK, response.content
    return {row["name"] for row in response.json()}


def test_expired_filter_true_finds_projects_past_their_date(user_client, by_expiration):
    assert _names(user_client.get(PROJECTS_URL, {"expired": "true"})) == {"last week", "yesterday"}


def test_expired_filter_false_finds_the_others_including_those_without_a_date(user_client, by_expiration):
    assert _names(user_client.get(PROJECTS_URL, {"expired": "false"})) == {"today", "next week", "never"}


def test_expired_filter_follows_the_calendar(user, client_for, time_machine):
    # A fresh client after each move, so that its token is issued (and valid) at the traveller's time.
    time_machine.move_to(datetime(2025, 6, 30, 23, 59, tzinfo=UTC), tick=False)
    ProjectFactory(owner=user, name="june", expiration_date=datetime(2025, 6, 30).date())
    assert _names(client_for(user).get(PROJECTS_URL, {"expired": "true"})) == set()
    time_machine.move_to(datetime(2025, 7, 1, 0, 1, tzinfo=UTC), tick=False)
    assert _names(client_for(user).get(PROJECTS_URL, {"expired": "true"})) == {"june"}


@pytest.mark.parametrize("value", ["yes", "1", "True", "maybe"])
def test_junk_expired_filter_is_400(user_client, value):
    assert "expired" in errors(user_client.get(PROJECTS_URL, {"expired": value}))


def test_expires_before_and_after_are_strict_and_skip_projects_without_a_date(user_client, by_expiration):
    today = in_days(0).isoformat()
    assert _names(user_client.get(PROJECTS_URL, {"expires_before": today})) == {"last week", "yesterday"}
    assert _names(user_client.get(PROJECTS_URL, {"expires_after": today})) == {"next week"}
    between = {"expires_after": in_days(-2).isoformat(), "expires_before": in_days(7).isoformat()}
    assert _names(user_client.get(PROJECTS_URL, between)) == {"yesterday", "today"}


@pytest.mark.parametrize("name", ["expires_before", "expires_after"])
@pytest.mark.parametrize("value", ["soon", "2024-13-01", "2024-02-30", "99999-01-01", "1"])
def test_junk_date_filters_are_400(user_client, name, value):
    assert name in errors(user_client.get(PROJECTS_URL, {name: value}))


def test_search_is_case_insensitive_over_name_and_description(user, user_client):
    by_name = ProjectFactory(owner=user, name="Customer Warehouse")
    by_description = ProjectFactory(owner=user, name="lake", description="feeds the WAREHOUSE")
    ProjectFactory(owner=user, name="other", description="nothing")
    assert set(ids_in_order(user_client.get(PROJECTS_URL, {"search": "warehouse"}))) == {by_name.pk, by_description.pk}
    assert ids_in_order(user_client.get(PROJECTS_URL, {"search": "CUSTOMER"})) == [by_name.pk]
    assert ids_in_order(user_client.get(PROJECTS_URL, {"search": "%"})) == []


def test_search_with_a_nul_character_is_400(user_client):
    assert "search" in errors(user_client.get(PROJECTS_URL, {"search": "a\x00b"}))


def test_filters_combine(user, user_client, by_expiration):
    ProjectFactory(owner=user, name="next week too", expiration_date=in_days(7))
    params = {"search": "week", "expired": "false", "expires_after": in_days(0).isoformat()}
    assert _names(user_client.get(PROJECTS_URL, params)) == {"next week", "next week too"}


def test_an_empty_search_is_ignored_and_other_empty_filters_are_400(user_client, by_expiration):
    assert len(ids_in_order(user_client.get(PROJECTS_URL, {"search": ""}))) == 5
    params = {"expired": "", "expires_before": "", "expires_after": ""}
    response = user_client.get(PROJECTS_URL, params)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert set(response.json()) == set(params)


# ---------------------------------------------------------------------------------------------------------------------
# Ordering and paging
# ---------------------------------------------------------------------------------------------------------------------


def test_list_is_newest_first_by_default(user, user_client):
    first, second, third = ProjectFactory.create_batch(3, owner=user)
    Project.objects.filter(pk=second.pk).update(created_at=timezone.now() + timedelta(days=1))
    assert ids_in_order(user_client.get(PROJECTS_URL)) == [second.pk, third.pk, first.pk]


@pytest.fixture
def three_projects(user) -> list[Project]:
    """Three projects whose every orderable field sorts them in the order third, first, second."""
    first, second, third = ProjectFactory.create_batch(3, owner=user)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for project, rank, name in ((third, 0, "a"), (first, 1, "B"), (second, 2, "c")):
        moment = base + timedelta(days=rank)
        Project.objects.filter(pk=project.pk).update(
            name=name, created_at=moment, updated_at=moment, expiration_date=moment.date()
        )
    return [third, first, second]


@pytest.mark.parametrize("field", ["created_at", "updated_at", "expiration_date"])
def test_ordering_by_each_field_and_reversed(user_client, three_projects, field):
    expected = [project.pk for project in three_projects]
    assert ids_in_order(user_client.get(PROJECTS_URL, {"ordering": field})) == expected
    assert ids_in_order(user_client.get(PROJECTS_URL, {"ordering": f"-{field}"})) == expected[::-1]


def test_ordering_by_name(user, user_client):
    projects = [ProjectFactory(owner=user, name=name) for name in ("c", "a", "b")]
    by_name = sorted(projects, key=lambda project: project.name)
    assert ids_in_order(user_client.get(PROJECTS_URL, {"ordering": "name"})) == [project.pk for project in by_name]
    assert ids_in_order(user_client.get(PROJECTS_URL, {"ordering": "-name"})) == [
        project.pk for project in by_name[::-1]
    ]


def test_ordering_ties_are_broken_by_id(user, user_client):
    projects = ProjectFactory.create_batch(3, owner=user, expiration_date=in_days(3))
    assert ids_in_order(user_client.get(PROJECTS_URL, {"ordering": "expiration_date"})) == [
        project.pk for project in projects
    ]


@pytest.mark.parametrize(
    "ordering", ["owner", "owner__password", "experiment_count", "reminded_for_date", "description", "-nope", "name,x"]
)
def test_unknown_ordering_is_400(user_client, ordering):
    assert "ordering" in errors(user_client.get(PROJECTS_URL, {"ordering": ordering}))


def test_list_pages_with_limit_and_offset(user, user_client):
    projects = ProjectFactory.create_batch(5, owner=user)
    response = user_client.get(PROJECTS_URL, {"limit": 2, "offset": 2, "ordering": "created_at"})
    assert ids_in_order(response) == [project.pk for project in projects[2:4]]
    assert response["X-Total-Count"] == "5"
    assert 'rel="next"' in response["Link"]


# ---------------------------------------------------------------------------------------------------------------------
# A project's experiments
# ---------------------------------------------------------------------------------------------------------------------


def test_experiments_sub_list_shows_only_the_projects_experiments(user, user_client, project):
    mine = list(Experiment.objects.filter(project=project))
    mine += ExperimentFactory.create_batch(2, owner=user, project=project)
    ExperimentFactory(owner=user)
    ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    response = user_client.get(project_experiments_url(project.pk))
    assert ids_in_order(response) == [experiment.pk for experiment in mine]
    assert response["X-Total-Count"] == "3"
    assert all(row["project"] == project.pk for row in response.json())


def test_experiments_sub_list_of_an_empty_project_is_empty(user, user_client):
    project = ProjectFactory(owner=user)
    ExperimentFactory(owner=user)
    response = user_client.get(project_experiments_url(project.pk))
    assert ids_in_order(response) == []
    assert response["X-Total-Count"] == "0"


def test_experiments_sub_list_shows_every_experiment_in_the_project_to_its_owner(user, other_user, user_client):
    # Experiments live by the project's roles: whoever created one, the project's owner sees it, here and on its own.
    project = ProjectFactory(owner=user)
    mine = ExperimentFactory(owner=user, project=project)
    theirs = ExperimentFactory(owner=other_user, project=project)
    ExperimentFactory(owner=user)
    assert user_client.get(experiment_url(theirs.pk)).status_code == status.HTTP_200_OK
    assert ids_in_order(user_client.get(project_experiments_url(project.pk))) == [mine.pk, theirs.pk]


def test_experiments_sub_list_filters_by_status_tag_and_search(user, user_client):
    project = ProjectFactory(owner=user)
    running = ExperimentFactory(owner=user, project=project, name="ResNet", status=S.RUNNING, tags=["ml"])
    draft = ExperimentFactory(owner=user, project=project, name="vit", description="resnet-like", tags=["cv"])
    ExperimentFactory(owner=user, name="resnet elsewhere", status=S.RUNNING, tags=["ml"])
    url = project_experiments_url(project.pk)
    assert ids_in_order(user_client.get(url, {"status": "running"})) == [running.pk]
    assert ids_in_order(user_client.get(url, {"status": "draft,running"})) == [running.pk, draft.pk]
    assert ids_in_order(user_client.get(url, {"tag": "ml"})) == [running.pk]
    assert ids_in_order(user_client.get(url, {"search": "RESNET"})) == [running.pk, draft.pk]
    assert ids_in_order(user_client.get(url, {"search": "resnet", "tag": "cv"})) == [draft.pk]


@pytest.mark.parametrize(
    ("param", "value"), [("status", "paused"), ("tag", "t" * 51), ("created_after", "soon"), ("ordering", "owner")]
)
def test_experiments_sub_list_bad_filters_are_400(user_client, project, param, value):
    assert param in errors(user_client.get(project_experiments_url(project.pk), {param: value}))


def test_experiments_sub_list_orders_like_the_experiments_list(user, user_client):
    project = ProjectFactory(owner=user)
    experiments = [ExperimentFactory(owner=user, project=project, name=name) for name in ("b", "c", "a")]
    assert ids_in_order(user_client.get(project_experiments_url(project.pk))) == [
        experiment.pk for experiment in experiments
    ]
    by_name = sorted(experiments, key=lambda experiment: experiment.name)
    assert ids_in_order(user_client.get(project_experiments_url(project.pk), {"ordering": "-name"})) == [
        e.pk for e in by_name[::-1]
    ]


def test_experiments_sub_list_pages_with_headers(user, user_client):
    project = ProjectFactory(owner=user)
    experiments = ExperimentFactory.create_batch(5, owner=user, project=project)
    ExperimentFactory.create_batch(3, owner=user)
    response = user_client.get(project_experiments_url(project.pk), {"limit": 2, "offset": 2})
    assert ids_in_order(response) == [experiment.pk for experiment in experiments[2:4]]
    assert response["X-Total-Count"] == "5"
    links = response["Link"]
    for rel in ("first", "prev", "next", "last"):
        assert f'rel="{rel}"' in links
    assert f"{project_experiments_url(project.pk)}?limit=2&offset=4>" in links


def test_experiments_sub_list_queries_do_not_grow_with_the_rows(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    project = ProjectFactory(owner=user)
    ExperimentFactory(owner=user, project=project)
    with django_assert_max_num_queries(6) as one_row:
        assert len(user_client.get(project_experiments_url(project.pk)).json()) == 1
    ExperimentFactory.create_batch(9, owner=user, project=project, tags=["ml"])
    with django_assert_num_queries(len(one_row)):
        assert len(user_client.get(project_experiments_url(project.pk)).json()) == 10
