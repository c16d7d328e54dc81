import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from experiments.validators import PARAMETERS_MAX_BYTES
from registry.tests.support import EXPERIMENTS_URL, errors, experiment_url, ids_in_order, rerun_url

pytestmark = pytest.mark.django_db

S = Experiment.Status


def _row(experiment: Experiment) -> dict | None:
    """The experiment as the database holds it, to show that a refused request changed nothing."""
    return Experiment.objects.filter(pk=experiment.pk).values().first()


# ---------------------------------------------------------------------------------------------------------------------
# Permission matrix
# ---------------------------------------------------------------------------------------------------------------------

# (route, method, URL of the experiment's id, body). The experiment is completed, so that a re-run is allowed.
ROUTES = [
    ("list", "get", lambda pk: EXPERIMENTS_URL, None),
    ("create", "post", lambda pk: EXPERIMENTS_URL, {"name": "new"}),
    ("retrieve", "get", experiment_url, None),
    ("update", "put", experiment_url, {"name": "replaced", "status": S.COMPLETED}),
    ("partial_update", "patch", experiment_url, {"name": "changed"}),
    ("destroy", "delete", experiment_url, None),
    ("rerun", "post", rerun_url, None),
]
DETAIL_ROUTES = [route for route in ROUTES if route[0] not in {"list", "create"}]
OWNER_EXPECTS = {
    "list": status.HTTP_200_OK,
    "create": status.HTTP_201_CREATED,
    "retrieve": status.HTTP_200_OK,
    "update": status.HTTP_200_OK,
    "partial_update": status.HTTP_200_OK,
    "destroy": status.HTTP_204_NO_CONTENT,
    "rerun": status.HTTP_200_OK,
}


@pytest.fixture
def experiment(user):
    started = timezone.now() - timedelta(hours=2)
    return ExperimentFactory(
        owner=user,
        status=S.COMPLETED,
        started_at=started,
        finished_at=started + timedelta(hours=1),
        results={"accuracy": 0.9},
        tags=["ml"],
    )


@pytest.mark.parametrize(("route", "method", "url", "body"), ROUTES, ids=[route[0] for route in ROUTES])
def test_anonymous_gets_401_on_every_route(api_client, experiment, route, method, url, body):
    before = _row(experiment)
    response = getattr(api_client, method)(url(experiment.pk), body)
    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _row(experiment) == before
    assert Experiment.objects.count() == 1


@pytest.mark.parametrize(("route", "method", "url", "body"), ROUTES, ids=[route[0] for route in ROUTES])
def test_owner_may_use_every_route(user_client, experiment, route, method, url, body):
    response = getattr(user_client, method)(url(experiment.pk), body)
    assert response.status_code == OWNER_EXPECTS[route], response.content


@pytest.mark.parametrize(("route", "method", "url", "body"), DETAIL_ROUTES, ids=[route[0] for route in DETAIL_ROUTES])
def test_other_user_gets_403_on_every_detail_route_and_nothing_changes(
    other_client, experiment, route, method, url, body
):
    before = _row(experiment)
    response = getattr(other_client, method)(url(experiment.pk), body)
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _row(experiment) == before


@pytest.mark.parametrize(("route", "method", "url", "body"), DETAIL_ROUTES, ids=[route[0] for route in DETAIL_ROUTES])
def test_missing_experiment_answers_404_on_every_detail_route(user_client, experiment, route, method, url, body):
    response = getattr(user_client, method)(url(experiment.pk + 1000), body)
    assert response.status_code == status.HTTP_404_NOT_FOUND


def test_id_too_large_for_the_database_answers_404(user_client):
    assert user_client.get(experiment_url(10**30)).status_code == status.HTTP_404_NOT_FOUND


def test_other_user_lists_only_their_own_experiments(other_user, other_client, experiment):
    theirs = ExperimentFactory(owner=other_user)
    response = other_client.get(EXPERIMENTS_URL)
    assert [row["id"] for row in response.json()] == [theirs.pk]
    assert response["X-Total-Count"] == "1"


def test_filters_never_reveal_other_users_experiments(other_client, experiment):
    response = other_client.get(EXPERIMENTS_URL, {"status": S.COMPLETED, "tag": "ml", "search": experiment.name})
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == []


def test_owner_in_the_body_is_ignored_on_create(user, other_user, user_client):
    response = user_client.post(EXPERIMENTS_URL, {"name": "mine", "owner": other_user.pk, "id": 999}, format="json")
    assert response.status_code == status.HTTP_201_CREATED
    experiment = Experiment.objects.get()
    assert experiment.owner == user
    assert experiment.pk != 999
    assert response.json()["owner"] == user.pk


@pytest.mark.parametrize("method", ["put", "patch"])
def test_owner_in_the_body_is_ignored_on_update(user, other_user, user_client, experiment, method):
    body = {"name": "kept", "owner": other_user.pk, "created_at": "2000-01-01T00:00:00Z"}
    response = getattr(user_client, method)(experiment_url(experiment.pk), body)
    assert response.status_code == status.HTTP_200_OK
    experiment.refresh_from_db()
    assert experiment.owner == user
    assert experiment.created_at.year != 2000


def test_the_same_experiment_is_403_to_one_user_and_200_to_its_owner(client_for, experiment):
    stranger = UserFactory()
    assert client_for(stranger).get(experiment_url(experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client_for(experiment.owner).get(experiment_url(experiment.pk)).status_code == status.HTTP_200_OK


# ---------------------------------------------------------------------------------------------------------------------
# The seed flow
# ---------------------------------------------------------------------------------------------------------------------


def _registered_client(username: str) -> APIClient:
    """Register a user and log them in over HTTP; return a client that sends their access token."""
    client = APIClient()
    password = "correct-horse-battery-9"
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    assert client.post(reverse("user-list"), body).status_code == status.HTTP_201_CREATED
    login = client.post(reverse("login"), {"username": username, "password": password})
    assert login.status_code == status.HTTP_200_OK
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    return client


def test_seed_flow_two_users_over_http():
    alice, bob = _registered_client("alice"), _registered_client("bob")

    first = alice.post(EXPERIMENTS_URL, {"name": "baseline", "parameters": {"lr": 0.1}, "tags": ["ml"]})
    second = alice.post(EXPERIMENTS_URL, {"name": "bigger model", "parameters": {"lr": 0.01}})
    assert first.status_code == second.status_code == status.HTTP_201_CREATED
    first_id, second_id = first.json()["id"], second.json()["id"]
    assert first["Location"].endswith(experiment_url(first_id))

    listed = alice.get(EXPERIMENTS_URL)
    assert listed.status_code == status.HTTP_200_OK
    assert [row["name"] for row in listed.json()] == ["baseline", "bigger model"]

    read = alice.get(experiment_url(first_id))
    assert read.status_code == status.HTTP_200_OK
    assert read.json()["parameters"] == {"lr": 0.1}

    patched = alice.patch(experiment_url(first_id), {"status": S.RUNNING, "description": "first try"})
    assert patched.status_code == status.HTTP_200_OK
    assert patched.json()["status"] == S.RUNNING
    assert patched.json()["started_at"] is not None

    assert alice.delete(experiment_url(first_id)).status_code == status.HTTP_204_NO_CONTENT
    assert alice.delete(experiment_url(first_id)).status_code == status.HTTP_404_NOT_FOUND

    empty = bob.get(EXPERIMENTS_URL)
    assert empty.status_code == status.HTTP_200_OK
    assert empty.json() == []
    assert bob.get(experiment_url(second_id)).status_code == status.HTTP_403_FORBIDDEN
    assert bob.patch(experiment_url(second_id), {"name": "mine now"}).status_code == status.HTTP_403_FORBIDDEN
    assert bob.delete(experiment_url(second_id)).status_code == status.HTTP_403_FORBIDDEN
    assert Experiment.objects.get(pk=second_id).name == "bigger model"


# ---------------------------------------------------------------------------------------------------------------------
# Create, read, update, delete
# ---------------------------------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_experiment_and_its_location(user, user_client):
    body = {
        "name": "  baseline  ",
        "description": "first try",
        "parameters": {"lr": 0.1, "layers": [64, 32]},
        "tags": ["ml", "baseline"],
    }
    response = user_client.post(EXPERIMENTS_URL, body)
    assert response.status_code == status.HTTP_201_CREATED
    data = response.json()
    assert response["Location"] == f"http://testserver{experiment_url(data['id'])}"
    assert data["name"] == "baseline"
    assert data["status"] == S.DRAFT
    assert data["parameters"] == {"lr": 0.1, "layers": [64, 32]}
    assert data["results"] == {}
    assert data["tags"] == ["ml", "baseline"]
    assert data["owner"] == user.pk
    assert re.fullmatch("[0-9a-f]{32}", data["run_id"])
    assert (data["lifecycle_stage"], data["run_tags"]) == ("active", {})
    assert set(data) == {
        "id",
        "name",
        "description",
        "status",
        "parameters",
        "results",
        "tags",
        "run_tags",
        "project",
        "run_id",
        "lifecycle_stage",
        "started_at",
        "finished_at",
        "owner",
        "created_at",
        "updated_at",
    }


def test_routes_answer_with_and_without_the_trailing_slash(user_client, experiment):
    assert user_client.get(EXPERIMENTS_URL.rstrip("/")).status_code == status.HTTP_200_OK
    assert user_client.get(experiment_url(experiment.pk).rstrip("/")).status_code == status.HTTP_200_OK
    assert user_client.get(experiment_url(experiment.pk).rstrip("/") + "/").status_code == status.HTTP_200_OK
    response = user_client.post(rerun_url(experiment.pk).rstrip("/") + "/")
    assert response.status_code == status.HTTP_200_OK


def test_non_numeric_id_answers_404(user_client):
    assert user_client.get(f"{EXPERIMENTS_URL}abc/").status_code == status.HTTP_404_NOT_FOUND


def test_put_replaces_the_editable_fields_and_records_results(user_client, experiment):
    body = {"name": "replaced", "description": "d", "parameters": {"a": 1}, "results": {"b": 2}, "tags": ["x"]}
    response = user_client.put(experiment_url(experiment.pk), body)
    assert response.status_code == status.HTTP_200_OK
    experiment.refresh_from_db()
    # Results are the latest values of metrics: writing one records a point, and metrics not named keep theirs.
    assert (experiment.name, experiment.parameters, experiment.results, experiment.tags) == (
        "replaced",
        {"a": 1},
        {"accuracy": 0.9, "b": 2.0},
        ["x"],
    )
    assert response.json()["results"] == {"accuracy": 0.9, "b": 2.0}


def test_put_without_a_name_is_400(user_client, experiment):
    assert "name" in errors(user_client.put(experiment_url(experiment.pk), {"description": "d"}))


def test_patch_changes_only_what_is_sent(user_client, experiment):
    response = user_client.patch(experiment_url(experiment.pk), {"description": "notes"})
    assert response.status_code == status.HTTP_200_OK
    experiment.refresh_from_db()
    assert experiment.description == "notes"
    assert experiment.results == {"accuracy": 0.9}
    assert experiment.status == S.COMPLETED


def test_delete_answers_204_and_removes_the_row(user_client, experiment):
    response = user_client.delete(experiment_url(experiment.pk))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not Experiment.objects.filter(pk=experiment.pk).exists()


# ---------------------------------------------------------------------------------------------------------------------
# Status moves and re-runs
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.DRAFT, S.RUNNING),
        (S.DRAFT, S.CANCELLED),
        (S.RUNNING, S.COMPLETED),
        (S.RUNNING, S.FAILED),
        (S.RUNNING, S.CANCELLED),
    ],
)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_allowed_status_move_over_the_api(user, user_client, source, target, method):
    experiment = ExperimentFactory(owner=user, status=source)
    response = getattr(user_client, method)(experiment_url(experiment.pk), {"name": experiment.name, "status": target})
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["status"] == target
    experiment.refresh_from_db()
    assert experiment.status == target


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (S.DRAFT, S.COMPLETED, "running, cancelled"),
        (S.DRAFT, S.FAILED, "running, cancelled"),
        (S.RUNNING, S.DRAFT, "completed, failed, cancelled"),
        (S.COMPLETED, S.RUNNING, "none (re-run it to go back to running)"),
        (S.FAILED, S.DRAFT, "none (re-run it to go back to running)"),
        (S.CANCELLED, S.COMPLETED, "none (re-run it to go back to running)"),
    ],
)
def test_refused_status_move_answers_400_naming_the_allowed_moves(user, user_client, source, target, allowed):
    experiment = ExperimentFactory(owner=user, status=source)
    before = _row(experiment)
    response = user_client.patch(experiment_url(experiment.pk), {"status": target, "name": "changed"})
    assert errors(response) == {
        "status": [f"An experiment cannot move from {source} to {target}. Allowed moves from {source}: {allowed}."]
    }
    assert _row(experiment) == before


def test_same_status_is_a_no_op(user_client, experiment):
    before = _row(experiment)
    response = user_client.patch(experiment_url(experiment.pk), {"status": S.COMPLETED})
    assert response.status_code == status.HTTP_200_OK
    after = _row(experiment)
    assert (after["status"], after["finished_at"]) == (before["status"], before["finished_at"])


def test_moving_to_running_sets_started_at_and_finishing_sets_finished_at(user_client, user):
    experiment = ExperimentFactory(owner=user)
    running = user_client.patch(experiment_url(experiment.pk), {"status": S.RUNNING}).json()
    assert running["started_at"] is not None
    assert running["finished_at"] is None
    done = user_client.patch(experiment_url(experiment.pk), {"status": S.COMPLETED, "results": {"acc": 0.8}}).json()
    assert done["started_at"] == running["started_at"]
    assert done["finished_at"] >= done["started_at"]
    assert done["results"] == {"acc": 0.8}


def test_client_may_give_the_times(user_client):
    body = {
        "name": "imported",
        "status": S.RUNNING,
        "started_at": "2024-01-01T10:00:00Z",
    }
    experiment_id = user_client.post(EXPERIMENTS_URL, body).json()["id"]
    response = user_client.patch(
        experiment_url(experiment_id), {"status": S.COMPLETED, "finished_at": "2024-01-01T12:00:00+02:00"}
    )
    assert response.status_code == status.HTTP_200_OK
    experiment = Experiment.objects.get(pk=experiment_id)
    assert experiment.started_at == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert experiment.finished_at == datetime(2024, 1, 1, 10, tzinfo=UTC)


def test_create_with_a_status_unreachable_from_draft_is_400(user_client):
    response = user_client.post(EXPERIMENTS_URL, {"name": "x", "status": S.COMPLETED})
    assert "Allowed moves from draft: running, cancelled." in errors(response)["status"][0]
    assert not Experiment.objects.exists()


def test_rerun_moves_a_final_experiment_back_to_running(user_client, experiment):
    old_started = experiment.started_at
    response = user_client.post(rerun_url(experiment.pk))
    assert response.status_code == status.HTTP_200_OK
    data = response.json()
    assert data["status"] == S.RUNNING
    assert data["finished_at"] is None
    assert data["results"] == {}
    experiment.refresh_from_db()
    assert experiment.started_at > old_started


@pytest.mark.parametrize("source", [S.DRAFT, S.RUNNING])
def test_rerun_of_an_experiment_that_is_not_final_is_400(user, user_client, source):
    experiment = ExperimentFactory(owner=user, status=source)
    before = _row(experiment)
    response = user_client.post(rerun_url(experiment.pk))
    assert errors(response) == {
        "status": [f"Only a completed, failed or cancelled experiment can be re-run; this one is {source}."]
    }
    assert _row(experiment) == before


# ---------------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------------


def test_name_of_200_characters_is_accepted(user_client):
    assert user_client.post(EXPERIMENTS_URL, {"name": "n" * 200}).status_code == status.HTTP_201_CREATED


@pytest.mark.parametrize("name", ["n" * 201, "", "   "])
def test_bad_name_is_400(user_client, name):
    assert "name" in errors(user_client.post(EXPERIMENTS_URL, {"name": name}))


def test_name_is_trimmed(user_client):
    assert user_client.post(EXPERIMENTS_URL, {"name": "\t baseline \n"}).json()["name"] == "baseline"


def test_missing_name_is_400(user_client):
    assert "name" in errors(user_client.post(EXPERIMENTS_URL, {"description": "no name"}))


def test_twenty_tags_of_50_characters_are_accepted(user_client):
    tags = [f"{i:02d}" + "t" * 48 for i in range(20)]
    response = user_client.post(EXPERIMENTS_URL, {"name": "x", "tags": tags})
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json()["tags"] == tags


@pytest.mark.parametrize(
    "tags",
    [
        [f"t{i}" for i in range(21)],
        ["t" * 51],
        ["ml", "ml"],
        ["ml", " ml "],
        [""],
        [1],
        [None],
        [["nested"]],
        "ml",
        {"ml": True},
        None,
    ],
)
def test_bad_tags_are_400(user_client, tags):
    assert "tags" in errors(user_client.post(EXPERIMENTS_URL, {"name": "x", "tags": tags}))


def test_parameters_of_64_kb_are_accepted_and_more_is_400(user_client):
    # {"p":"..."} is 8 bytes of framing around the string.
    fits = {"p": "x" * (PARAMETERS_MAX_BYTES - 8)}
    assert user_client.post(EXPERIMENTS_URL, {"name": "x", "parameters": fits}).status_code == status.HTTP_201_CREATED
    too_big = {"p": "x" * (PARAMETERS_MAX_BYTES - 7)}
    assert "parameters" in errors(user_client.post(EXPERIMENTS_URL, {"name": "x", "parameters": too_big}))


@pytest.mark.parametrize(
    "results", [{"acc": True}, {"acc": "0.9"}, {"acc": None}, {"acc": [1]}, {"acc": {"v": 1}}, [1], "acc", None]
)
def test_results_that_are_not_named_numbers_are_400(user_client, results):
    assert "results" in errors(user_client.post(EXPERIMENTS_URL, {"name": "x", "results": results}))


def test_results_accept_numbers(user_client):
    results = {"acc": 0.93, "epochs": 10, "loss": -1.5e-3, "huge": 1e308}
    response = user_client.post(EXPERIMENTS_URL, {"name": "x", "results": results})
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json()["results"] == results


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "x", "results": {"acc": 1e400}}', "results"),
        ('{"name": "x", "results": {"acc": -1e400}}', "results"),
        ('{"name": "x", "results": {"acc": 1' + "0" * 400 + "}}", "results"),
        ('{"name": "x", "parameters": {"lr": 1e400}}', "parameters"),
    ],
)
def test_huge_numbers_are_400(user_client, raw, field):
    # The JSON parser refuses numbers no column can hold, before any field sees them.
    response = user_client.post(EXPERIMENTS_URL, raw, content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "JSON parse error" in errors(response)["detail"]
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "x", "results": {"acc": NaN}}',
        '{"name": "x", "results": {"acc": Infinity}}',
        '{"name": "x", "parameters": {"n": 1' + "0" * 5000 + "}}",
        "[1, 2]",
        '"name"',
        "{not json",
    ],
)
def test_unacceptable_json_bodies_are_400(user_client, raw):
    response = user_client.post(EXPERIMENTS_URL, raw, content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", {}),
        ("name", []),
        ("name", None),
        ("description", []),
        ("description", None),
        ("status", 1),
        ("status", "paused"),
        ("status", None),
        ("parameters", "lr=0.1"),
        ("parameters", [1]),
        ("parameters", 1),
        ("parameters", None),
        ("results", "acc"),
        ("results", 0.9),
        ("started_at", 1),
        ("started_at", "yesterday"),
        ("started_at", "99999-01-01T00:00:00Z"),
        ("started_at", "0001-01-01T00:00:00+05:00"),
        ("finished_at", []),
        ("finished_at", {}),
    ],
)
def test_wrong_json_types_are_400_field_errors(user_client, field, value):
    body = {"name": "x", field: value}
    assert field in errors(user_client.post(EXPERIMENTS_URL, body))
    assert not Experiment.objects.exists()


def test_finished_before_started_is_a_400_field_error(user_client, experiment):
    before = _row(experiment)
    response = user_client.patch(experiment_url(experiment.pk), {"finished_at": "2000-01-01T00:00:00Z"})
    assert errors(response) == {"finished_at": ["An experiment cannot finish before it starts."]}
    assert _row(experiment) == before


def test_finished_before_started_on_create_is_400(user_client):
    body = {"name": "x", "started_at": "2024-01-02T00:00:00Z", "finished_at": "2024-01-01T00:00:00Z"}
    assert "finished_at" in errors(user_client.post(EXPERIMENTS_URL, body))


def test_several_field_errors_are_reported_together(user_client):
    body = {"name": "", "tags": ["a", "a"], "results": {"acc": True}, "parameters": []}
    assert set(errors(user_client.post(EXPERIMENTS_URL, body))) == {"name", "tags", "results", "parameters"}


def test_a_form_encoded_create_is_415_json_only(user_client):
    response = user_client.post(EXPERIMENTS_URL, {"name": "form"}, format="multipart")
    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


# ---------------------------------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def by_status(user) -> dict[str, Experiment]:
    return {value: ExperimentFactory(owner=user, status=value) for value in S}


def test_status_filter_takes_one_status(user_client, by_status):
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"status": "running"})) == [by_status[S.RUNNING].pk]


def test_status_filter_takes_several_statuses_comma_separated(user_client, by_status):
    response = user_client.get(EXPERIMENTS_URL, {"status": "draft,running"})
    assert ids_in_order(response) == [by_status[S.DRAFT].pk, by_status[S.RUNNING].pk]


@pytest.mark.parametrize("value", ["paused", "draft,paused", "DRAFT"])
def test_unknown_status_filter_is_400(user_client, by_status, value):
    assert "status" in errors(user_client.get(EXPERIMENTS_URL, {"status": value}))


def test_tag_filter(user, user_client):
    wanted = ExperimentFactory(owner=user, tags=["vision", "ml"])
    ExperimentFactory(owner=user, tags=["mlops", "ML", "xml"])
    ExperimentFactory(owner=user, tags=[], name="ml", description="ml")
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"tag": "ml"})) == [wanted.pk]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"tag": "nothing"})) == []


@pytest.mark.parametrize("tag", ['with "quotes"', "back\\slash", "ünïcödé", "100%_sure", "a,b"])
def test_tag_filter_matches_tags_with_special_characters(user, user_client, tag):
    wanted = ExperimentFactory(owner=user, tags=[tag])
    ExperimentFactory(owner=user, tags=[tag.upper() + "!"])
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"tag": tag})) == [wanted.pk]


def test_tag_filter_longer_than_a_tag_is_400(user_client):
    assert "tag" in errors(user_client.get(EXPERIMENTS_URL, {"tag": "t" * 51}))


def test_created_after_and_before_filters(user, user_client):
    old, middle, new = ExperimentFactory.create_batch(3, owner=user)
    for experiment, day in ((old, 1), (middle, 10), (new, 20)):
        Experiment.objects.filter(pk=experiment.pk).update(created_at=datetime(2024, 1, day, 12, tzinfo=UTC))
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"created_after": "2024-01-10"})) == [middle.pk, new.pk]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"created_after": "2024-01-10T12:00:01Z"})) == [new.pk]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"created_before": "2024-01-10T12:00:00Z"})) == [
        old.pk,
        middle.pk,
    ]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"created_before": "2024-01-10"})) == [old.pk]
    both = {"created_after": "2024-01-05T00:00:00+02:00", "created_before": "2024-01-15"}
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, both)) == [middle.pk]


@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize(
    "value", ["yesterday", "2024-13-01", "2024-01-01T25:00:00", "99999-01-01", "0001-01-01T00:00:00+05:00", "1"]
)
def test_junk_date_filters_are_400(user_client, name, value):
    assert name in errors(user_client.get(EXPERIMENTS_URL, {name: value}))


def test_search_is_case_insensitive_over_name_and_description(user, user_client):
    by_name = ExperimentFactory(owner=user, name="ResNet baseline")
    by_description = ExperimentFactory(owner=user, name="other", description="a deeper RESNET")
    ExperimentFactory(owner=user, name="transformer", tags=["resnet"])
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"search": "resnet"})) == [by_name.pk, by_description.pk]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"search": "BASELINE"})) == [by_name.pk]


def test_search_with_a_nul_character_is_400(user_client):
    assert "search" in errors(user_client.get(EXPERIMENTS_URL, {"search": "a\x00b"}))


def test_filters_combine(user, user_client):
    wanted = ExperimentFactory(owner=user, name="resnet", status=S.RUNNING, tags=["ml"])
    ExperimentFactory(owner=user, name="resnet", status=S.DRAFT, tags=["ml"])
    ExperimentFactory(owner=user, name="resnet", status=S.RUNNING, tags=[])
    ExperimentFactory(owner=user, name="vit", status=S.RUNNING, tags=["ml"])
    response = user_client.get(EXPERIMENTS_URL, {"status": "running,failed", "tag": "ml", "search": "res"})
    assert ids_in_order(response) == [wanted.pk]


def test_empty_text_filters_are_ignored_and_other_empty_filters_are_400(user, user_client):
    experiment = ExperimentFactory(owner=user)
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"tag": "", "search": ""})) == [experiment.pk]
    params = {"status": "", "created_after": "", "created_before": ""}
    assert set(errors(user_client.get(EXPERIMENTS_URL, params))) == set(params)


@pytest.mark.parametrize("status", [",", "running,", ",failed", "running,,failed"])
def test_a_status_list_with_an_empty_item_is_400(user, user_client, status):
    ExperimentFactory(owner=user, status=S.RUNNING)
    response = user_client.get(EXPERIMENTS_URL, {"status": status})
    assert response.status_code == 400
    assert errors(response) == {"status": ["An item of this comma-separated list is empty."]}


def test_an_empty_ordering_is_400_and_names_the_parameter(user, user_client):
    ExperimentFactory(owner=user)
    response = user_client.get(EXPERIMENTS_URL, {"ordering": ""})
    assert response.status_code == 400
    assert errors(response) == {"ordering": ["Name at least one field to sort by, or leave the parameter out."]}


# ---------------------------------------------------------------------------------------------------------------------
# Ordering and paging
# ---------------------------------------------------------------------------------------------------------------------


def test_list_is_ordered_by_id_by_default(user, user_client):
    experiments = [ExperimentFactory(owner=user, name=name) for name in ("c", "a", "b")]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL)) == [experiment.pk for experiment in experiments]


@pytest.fixture
def three_experiments(user) -> list[Experiment]:
    """Three experiments whose every orderable field sorts them in the order third, first, second."""
    first, second, third = ExperimentFactory.create_batch(3, owner=user)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for experiment, rank, name, state in (
        (third, 0, "a", S.CANCELLED),
        (first, 1, "b", S.DRAFT),
        (second, 2, "c", S.RUNNING),
    ):
        moment = base + timedelta(days=rank)
        Experiment.objects.filter(pk=experiment.pk).update(
            name=name,
            status=state,
            created_at=moment,
            updated_at=moment,
            started_at=moment,
            finished_at=moment + timedelta(hours=1),
        )
    return [third, first, second]


@pytest.mark.parametrize("field", ["name", "status", "created_at", "updated_at", "started_at", "finished_at"])
def test_ordering_by_each_field_and_reversed(user_client, three_experiments, field):
    expected = [experiment.pk for experiment in three_experiments]
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"ordering": field})) == expected
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"ordering": f"-{field}"})) == expected[::-1]


def test_ordering_by_id_reversed(user_client, three_experiments):
    expected = sorted((experiment.pk for experiment in three_experiments), reverse=True)
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"ordering": "-id"})) == expected


def test_ordering_ties_are_broken_by_id(user, user_client):
    experiments = ExperimentFactory.create_batch(3, owner=user, status=S.DRAFT)
    assert ids_in_order(user_client.get(EXPERIMENTS_URL, {"ordering": "status"})) == [
        experiment.pk for experiment in experiments
    ]


@pytest.mark.parametrize("ordering", ["owner", "owner__password", "parameters", "-nope", "name,bogus"])
def test_unknown_ordering_is_400(user_client, ordering):
    assert "ordering" in errors(user_client.get(EXPERIMENTS_URL, {"ordering": ordering}))


def test_list_pages_with_limit_and_offset(user, user_client):
    experiments = ExperimentFactory.create_batch(5, owner=user)
    response = user_client.get(EXPERIMENTS_URL, {"limit": 2, "offset": 2})
    assert ids_in_order(response) == [experiment.pk for experiment in experiments[2:4]]
    assert response["X-Total-Count"] == "5"
    assert 'rel="next"' in response["Link"]


def test_list_queries_do_not_grow_with_the_rows(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    ExperimentFactory(owner=user, tags=["ml"])
    with django_assert_max_num_queries(10) as one_row:
        assert len(user_client.get(EXPERIMENTS_URL).json()) == 1
    ExperimentFactory.create_batch(19, owner=user, tags=["ml"])
    with django_assert_num_queries(len(one_row)):
        assert len(user_client.get(EXPERIMENTS_URL, {"tag": "ml", "ordering": "-name"}).json()) == 20


def test_detail_reads_in_a_constant_number_of_queries(user_client, experiment, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert user_client.get(experiment_url(experiment.pk)).status_code == status.HTTP_200_OK


def test_huge_json_in_a_list_response_round_trips(user_client):
    parameters = {"nested": {"deep": [1, 2.5, None, True, "é"]}, "n": 2**63 - 1, "m": -(2**63)}
    experiment_id = user_client.post(EXPERIMENTS_URL, {"name": "x", "parameters": parameters}).json()["id"]
    assert json.loads(json.dumps(user_client.get(experiment_url(experiment_id)).json()["parameters"])) == parameters
