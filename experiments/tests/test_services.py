from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from experiments import services
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory

pytestmark = pytest.mark.django_db

S = Experiment.Status
ALLOWED_MOVES = {
    (S.DRAFT, S.RUNNING),
    (S.DRAFT, S.CANCELLED),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
}
SAME = {(status, status) for status in S}
REFUSED_MOVES = sorted({(a, b) for a in S for b in S} - ALLOWED_MOVES - SAME)
NAMED_AS_ALLOWED = {
    S.DRAFT: "running, cancelled.",
    S.RUNNING: "completed, failed, cancelled.",
    S.COMPLETED: "none (re-run it to go back to running).",
    S.FAILED: "none (re-run it to go back to running).",
    S.CANCELLED: "none (re-run it to go back to running).",
}
FINAL = [S.COMPLETED, S.FAILED, S.CANCELLED]


def _stored(experiment: Experiment) -> Experiment:
    return Experiment.objects.get(pk=experiment.pk)


def test_create_makes_a_draft_owned_by_the_given_user(user):
    experiment = services.experiment_create(owner=user, name="  baseline ", tags=["ml"], parameters={"lr": 0.1})
    stored = _stored(experiment)
    assert stored.owner == user
    assert stored.name == "baseline"
    assert stored.status == S.DRAFT
    assert stored.tags == ["ml"]
    assert stored.parameters == {"lr": 0.1}
    assert stored.started_at is None


def test_create_as_running_stamps_started_at(user):
    experiment = services.experiment_create(owner=user, name="x", status=S.RUNNING)
    assert experiment.status == S.RUNNING
    assert experiment.started_at is not None


def test_create_as_running_keeps_a_given_started_at(user):
    started = timezone.now() - timedelta(days=2)
    experiment = services.experiment_create(owner=user, name="x", status=S.RUNNING, started_at=started)
    assert _stored(experiment).started_at == started


@pytest.mark.parametrize("status", [S.COMPLETED, S.FAILED])
def test_create_refuses_a_status_not_reachable_from_draft(user, status):
    with pytest.raises(ValidationError) as info:
        services.experiment_create(owner=user, name="x", status=status)
    assert "Allowed moves from draft: running, cancelled." in info.value.message_dict["status"][0]
    assert not Experiment.objects.exists()


def test_create_refuses_invalid_fields_with_field_errors(user):
    with pytest.raises(ValidationError) as info:
        services.experiment_create(owner=user, name=" ", tags=["a", "a"], parameters=[1])
    assert set(info.value.message_dict) == {"name", "tags", "parameters"}
    assert not Experiment.objects.exists()


def test_create_refuses_fields_that_are_not_editable(user, other_user):
    with pytest.raises(ValueError, match="owner"):
        services.experiment_create(owner=user, name="x", owner_id=other_user.pk)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED_MOVES))
def test_allowed_move_changes_the_status(user, source, target):
    experiment = ExperimentFactory(owner=user, status=source)
    services.experiment_transition(experiment=experiment, status=target)
    assert _stored(experiment).status == target


@pytest.mark.parametrize(("source", "target"), REFUSED_MOVES)
def test_refused_move_names_the_allowed_moves_and_changes_nothing(user, source, target):
    experiment = ExperimentFactory(owner=user, status=source)
    before = _stored(experiment).updated_at
    with pytest.raises(ValidationError) as info:
        services.experiment_transition(experiment=experiment, status=target)
    assert info.value.message_dict["status"] == [
        f"An experiment cannot move from {source} to {target}. Allowed moves from {source}: {NAMED_AS_ALLOWED[source]}"
    ]
    stored = _stored(experiment)
    assert stored.status == source
    assert stored.updated_at == before


@pytest.mark.parametrize("status", list(S))
def test_moving_to_the_same_status_is_a_no_op(user, status):
    started = timezone.now() - timedelta(hours=1)
    experiment = ExperimentFactory(owner=user, status=status, started_at=started)
    services.experiment_transition(experiment=experiment, status=status)
    stored = _stored(experiment)
    assert stored.status == status
    assert stored.started_at == started
    assert stored.finished_at is None


def test_unknown_status_is_refused(user):
    experiment = ExperimentFactory(owner=user)
    with pytest.raises(ValidationError) as info:
        services.experiment_transition(experiment=experiment, status="paused")
    assert "Unknown status 'paused'" in info.value.message_dict["status"][0]


def test_moving_to_running_stamps_started_at(user):
    experiment = ExperimentFactory(owner=user)
    before = timezone.now()
    services.experiment_transition(experiment=experiment, status=S.RUNNING)
    stored = _stored(experiment)
    assert before <= stored.started_at <= timezone.now()
    assert stored.finished_at is None


@pytest.mark.parametrize("status", FINAL)
def test_moving_to_a_final_status_stamps_finished_at(user, status):
    experiment = ExperimentFactory(owner=user, status=S.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    services.experiment_transition(experiment=experiment, status=status)
    stored = _stored(experiment)
    assert stored.finished_at >= stored.started_at


def test_cancelling_a_draft_stamps_finished_at_only(user):
    experiment = ExperimentFactory(owner=user)
    services.experiment_transition(experiment=experiment, status=S.CANCELLED)
    stored = _stored(experiment)
    assert stored.started_at is None
    assert stored.finished_at is not None


def test_the_move_is_checked_against_the_stored_status(user):
    # A stale copy still says running, but the row has been completed meanwhile: cancelling from the stale copy is
    # refused, because a completed experiment moves nowhere.
    experiment = ExperimentFactory(owner=user, status=S.RUNNING, started_at=timezone.now())
    stale = _stored(experiment)
    services.experiment_transition(experiment=experiment, status=S.COMPLETED)
    with pytest.raises(ValidationError):
        services.experiment_transition(experiment=stale, status=S.CANCELLED)
    assert _stored(experiment).status == S.COMPLETED


def test_update_changes_fields_and_moves_the_status(user):
    experiment = ExperimentFactory(owner=user)
    services.experiment_update(
        experiment=experiment, actor=experiment.owner, name="renamed", status=S.RUNNING, results={"loss": 0.5}
    )
    stored = _stored(experiment)
    assert (stored.name, stored.status, stored.results) == ("renamed", S.RUNNING, {"loss": 0.5})
    assert stored.started_at is not None


def test_update_without_status_keeps_the_status(user):
    experiment = ExperimentFactory(owner=user, status=S.COMPLETED)
    services.experiment_update(experiment=experiment, actor=experiment.owner, description="notes")
    stored = _stored(experiment)
    assert (stored.status, stored.description) == (S.COMPLETED, "notes")


def test_update_with_given_finish_time_keeps_it(user):
    started = timezone.now() - timedelta(days=1)
    finished = started + timedelta(hours=3)
    experiment = ExperimentFactory(owner=user, status=S.RUNNING, started_at=started)
    services.experiment_update(experiment=experiment, actor=experiment.owner, status=S.COMPLETED, finished_at=finished)
    assert _stored(experiment).finished_at == finished


def test_update_refuses_finished_before_started(user):
    started = timezone.now()
    experiment = ExperimentFactory(owner=user, status=S.RUNNING, started_at=started)
    with pytest.raises(ValidationError) as info:
        services.experiment_update(
            experiment=experiment, actor=experiment.owner, finished_at=started - timedelta(seconds=1)
        )
    assert "finished_at" in info.value.message_dict
    assert _stored(experiment).finished_at is None


def test_update_refuses_a_refused_move_and_keeps_the_other_fields(user):
    experiment = ExperimentFactory(owner=user, status=S.COMPLETED, name="before")
    with pytest.raises(ValidationError):
        services.experiment_update(experiment=experiment, actor=experiment.owner, name="after", status=S.DRAFT)
    assert _stored(experiment).name == "before"


def test_update_refuses_fields_that_are_not_editable(user):
    experiment = ExperimentFactory(owner=user)
    with pytest.raises(ValueError, match="created_at"):
        services.experiment_update(experiment=experiment, actor=experiment.owner, created_at=timezone.now())


@pytest.mark.parametrize("status", FINAL)
def test_rerun_moves_a_final_experiment_back_to_running_afresh(user, status):
    long_ago = timezone.now() - timedelta(days=3)
    experiment = ExperimentFactory(
        owner=user,
        status=status,
        started_at=long_ago,
        finished_at=long_ago + timedelta(hours=1),
        results={"accuracy": 0.9},
        parameters={"lr": 0.1},
    )
    services.experiment_rerun(experiment=experiment, actor=experiment.owner)
    stored = _stored(experiment)
    assert stored.status == S.RUNNING
    assert stored.started_at > long_ago
    assert stored.finished_at is None
    assert stored.results == {}
    assert stored.parameters == {"lr": 0.1}


@pytest.mark.parametrize("status", [S.DRAFT, S.RUNNING])
def test_rerun_refuses_an_experiment_that_is_not_final(user, status):
    experiment = ExperimentFactory(owner=user, status=status, results={"loss": 1})
    with pytest.raises(ValidationError) as info:
        services.experiment_rerun(experiment=experiment, actor=experiment.owner)
    assert info.value.message_dict["status"] == [
        f"Only a completed, failed or cancelled experiment can be re-run; this one is {status}."
    ]
    stored = _stored(experiment)
    assert (stored.status, stored.results) == (status, {"loss": 1})


def test_delete_removes_the_experiment(user):
    experiment = ExperimentFactory(owner=user)
    services.experiment_delete(experiment=experiment, actor=experiment.owner)
    assert not Experiment.objects.exists()
