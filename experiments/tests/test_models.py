import math
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from experiments.validators import PARAMETERS_MAX_BYTES, validate_results

pytestmark = pytest.mark.django_db


def _errors(experiment: Experiment) -> dict:
    with pytest.raises(ValidationError) as info:
        experiment.full_clean()
    return info.value.message_dict


def test_new_experiment_has_the_documented_defaults(user):
    experiment = Experiment.objects.create(owner=user, name="baseline")
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT
    assert experiment.description == ""
    assert experiment.parameters == {}
    assert experiment.results == {}
    assert experiment.tags == []
    assert experiment.started_at is None
    assert experiment.finished_at is None
    assert str(experiment) == "baseline"


def test_full_clean_trims_the_name(user):
    experiment = Experiment(owner=user, name="  baseline \n")
    experiment.full_clean()
    assert experiment.name == "baseline"


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_name_is_refused(user, name):
    assert "name" in _errors(Experiment(owner=user, name=name))


def test_name_of_200_characters_is_accepted_and_201_refused(user):
    Experiment(owner=user, name="n" * 200).full_clean()
    assert "name" in _errors(Experiment(owner=user, name="n" * 201))


def test_database_refuses_an_empty_name(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(owner=user, name="")


def test_database_refuses_an_unknown_status(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(owner=user, name="x", status="paused")


def test_unknown_status_is_refused_by_full_clean(user):
    assert "status" in _errors(Experiment(owner=user, name="x", status="paused"))


def test_database_refuses_an_unknown_lifecycle_stage(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(owner=user, name="x", lifecycle_stage="archived")


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        ({"status": "paused"}, {"status": ["Value 'paused' is not a valid choice."]}),
        ({"lifecycle_stage": "archived"}, {"lifecycle_stage": ["Value 'archived' is not a valid choice."]}),
        ({"name": ""}, {"name": ["This field cannot be blank."]}),
    ],
)
def test_constraints_that_fields_check_are_reported_once_by_the_field(user, fields, messages):
    assert _errors(Experiment(owner=user, **{"name": "x", **fields})) == messages


def test_validating_a_new_experiment_asks_the_database_for_the_owner_the_run_id_and_the_times(user):
    experiment = Experiment(owner=user, name="x")
    with CaptureQueriesContext(connection) as queries:
        experiment.full_clean()
    checks = [query["sql"] for query in queries if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(checks) == 3
    assert ('"accounts_user"' in checks[0], '"run_uuid"' in checks[1], "_check" in checks[2]) == (True, True, True)


def test_finished_before_started_is_a_finished_at_error(user):
    now = timezone.now()
    experiment = Experiment(owner=user, name="x", started_at=now, finished_at=now - timedelta(seconds=1))
    assert _errors(experiment) == {"finished_at": ["An experiment cannot finish before it starts."]}


def test_finished_equal_to_started_is_accepted(user):
    now = timezone.now()
    Experiment(owner=user, name="x", started_at=now, finished_at=now).full_clean()


def test_database_refuses_finished_before_started(user):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(owner=user, name="x", started_at=now, finished_at=now - timedelta(days=1))


@pytest.mark.parametrize(
    "parameters",
    [{}, {"learning_rate": 0.01, "layers": [64, 32], "dataset": {"version": "v2", "shuffle": True}, "note": None}],
)
def test_parameters_accept_any_json_object(user, parameters):
    Experiment(owner=user, name="x", parameters=parameters).full_clean()


@pytest.mark.parametrize("parameters", [[], "lr=0.1", 1, None, True])
def test_parameters_must_be_an_object(user, parameters):
    assert "parameters" in _errors(Experiment(owner=user, name="x", parameters=parameters))


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_parameters_refuse_non_finite_numbers_anywhere(user, number):
    assert "parameters" in _errors(Experiment(owner=user, name="x", parameters={"a": {"b": [number]}}))


def _parameters_of_size(size: int) -> dict:
    # {"p":"..."} is 8 bytes of framing around the string.
    return {"p": "x" * (size - 8)}


def test_parameters_of_64_kb_are_accepted_and_one_byte_more_refused(user):
    Experiment(owner=user, name="x", parameters=_parameters_of_size(PARAMETERS_MAX_BYTES)).full_clean()
    errors = _errors(Experiment(owner=user, name="x", parameters=_parameters_of_size(PARAMETERS_MAX_BYTES + 1)))
    assert "at most 65536 bytes" in errors["parameters"][0]


def test_parameters_size_counts_utf8_bytes(user):
    # "é" is two bytes in UTF-8: 32769 of them exceed 64 KB though the string has fewer characters than that.
    assert "parameters" in _errors(Experiment(owner=user, name="x", parameters={"p": "é" * 32769}))


@pytest.mark.parametrize("results", [{}, {"accuracy": 0.93, "epochs": 10, "loss": -1.5e-3, "big": 10**300}])
def test_results_accept_finite_numbers(results):
    validate_results(results)


@pytest.mark.parametrize(
    "results",
    [
        {"accuracy": True},
        {"accuracy": "0.93"},
        {"accuracy": None},
        {"accuracy": [0.9]},
        {"accuracy": {"value": 0.9}},
        {"accuracy": math.inf},
        {"accuracy": -math.inf},
        {"accuracy": math.nan},
        {"accuracy": 10**400},
        {1: 0.5},
        [0.9],
        "0.9",
        None,
    ],
)
def test_results_refuse_anything_but_named_finite_numbers(results):
    with pytest.raises(ValidationError):
        validate_results(results)


def test_twenty_tags_are_accepted_and_twenty_one_refused(user):
    Experiment(owner=user, name="x", tags=[f"t{i}" for i in range(20)]).full_clean()
    errors = _errors(Experiment(owner=user, name="x", tags=[f"t{i}" for i in range(21)]))
    assert errors["tags"] == ["At most 20 tags are allowed; 21 given."]


def test_tag_of_50_characters_is_accepted_and_51_refused(user):
    Experiment(owner=user, name="x", tags=["t" * 50]).full_clean()
    assert "tags" in _errors(Experiment(owner=user, name="x", tags=["t" * 51]))


@pytest.mark.parametrize("tags", [["a", "a"], [""], ["a", 1], [None], "a,b", {"a": 1}, None])
def test_tags_must_be_a_list_of_distinct_non_empty_strings(user, tags):
    assert "tags" in _errors(Experiment(owner=user, name="x", tags=tags))


def test_where_visible_to_is_the_owners_experiments_only(user, other_user):
    mine = ExperimentFactory.create_batch(2, owner=user)
    ExperimentFactory(owner=other_user)
    assert list(Experiment.objects.where_visible_to(user)) == mine


def test_where_visible_to_an_anonymous_user_is_nothing(user):
    ExperimentFactory(owner=user)
    assert not Experiment.objects.where_visible_to(AnonymousUser()).exists()


@pytest.mark.parametrize("tag", ["ml", "ML", "with space", 'quote"d', "back\\slash", "ünïcödé", "日本語", "%_"])
def test_with_tag_matches_exactly_that_tag(user, tag):
    wanted = ExperimentFactory(owner=user, tags=["other", tag])
    ExperimentFactory(owner=user, tags=["other"])
    ExperimentFactory(owner=user, tags=[tag + "x", "x" + tag])
    assert list(Experiment.objects.with_tag(tag)) == [wanted]


def test_with_tag_is_case_sensitive(user):
    lower = ExperimentFactory(owner=user, tags=["ml"])
    upper = ExperimentFactory(owner=user, tags=["ML"])
    assert list(Experiment.objects.with_tag("ml")) == [lower]
    assert list(Experiment.objects.with_tag("ML")) == [upper]


def test_with_tag_finds_the_tag_in_any_of_twenty_positions(user):
    tags = [f"t{i}" for i in range(20)]
    experiment = ExperimentFactory(owner=user, tags=tags)
    for tag in tags:
        assert list(Experiment.objects.with_tag(tag)) == [experiment]


def test_with_tag_does_not_match_a_parameter_or_a_name(user):
    ExperimentFactory(owner=user, name="ml", parameters={"tag": "ml"}, tags=[])
    assert not Experiment.objects.with_tag("ml").exists()


def test_experiments_go_with_their_owner():
    assert Experiment._meta.get_field("owner").remote_field.on_delete is models.CASCADE
