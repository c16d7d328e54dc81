"""An experiment's representation, which ExperimentSerializer writes out by hand, against the one REST framework's
field-by-field walk gives for the same fields, and against literal answers."""

import math
from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from experiments.models import Experiment, RunTag
from experiments.serializers import ExperimentSerializer
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
FINISHED = datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC)


def field_by_field(instance: Experiment) -> dict:
    return serializers.Serializer.to_representation(ExperimentSerializer(), instance)


def full_experiment() -> Experiment:
    project = ProjectFactory()
    experiment = ExperimentFactory(
        owner=project.owner,
        project=project,
        name="résumé",
        description="two\nlines",
        status=Experiment.Status.FAILED,
        parameters={"layers": [64, 32], "nested": {"on": True}},
        tags=["b", "a"],
        started_at=STARTED,
        finished_at=FINISHED,
    )
    metrics_record(
        experiment=experiment,
        points=[
            Point(key="loss", value=0.1 + 0.2, step=3, timestamp=1),
            Point(key="acc", value=math.nan, step=0, timestamp=1),
            Point(key="up", value=math.inf, step=0, timestamp=1),
            Point(key="down", value=-math.inf, step=0, timestamp=1),
        ],
    )
    RunTag.objects.create(experiment=experiment, key="mlflow.runName", value="train")
    RunTag.objects.create(experiment=experiment, key="stage", value="")
    return experiment


@pytest.mark.parametrize("read", ["list query", "plain query"])
@pytest.mark.parametrize("make", [full_experiment, ExperimentFactory])
def test_written_out_representation_is_the_field_by_field_one(make, read):
    experiment = make()
    queryset = Experiment.objects.for_display() if read == "list query" else Experiment.objects.all()
    instance = queryset.get(pk=experiment.pk)
    written = ExperimentSerializer(instance).data
    assert written == field_by_field(queryset.get(pk=experiment.pk))
    assert list(written) == ExperimentSerializer.Meta.fields


def test_representation_of_every_kind_of_value(settings):
    settings.TIME_ZONE = "Europe/Paris"
    experiment = full_experiment()
    data = ExperimentSerializer(Experiment.objects.for_display().get(pk=experiment.pk)).data
    created = data.pop("created_at")
    updated = data.pop("updated_at")
    assert created.endswith("+01:00") and updated.endswith("+01:00")
    assert data == {
        "id": experiment.pk,
        "name": "résumé",
        "description": "two\nlines",
        "status": "failed",
        "parameters": {"layers": [64, 32], "nested": {"on": True}},
        "results": {"acc": "NaN", "down": "-Infinity", "loss": 0.30000000000000004, "up": "Infinity"},
        "tags": ["b", "a"],
        "run_tags": {"mlflow.runName": "train", "stage": ""},
        "project": experiment.project_id,
        "run_id": experiment.run_uuid,
        "lifecycle_stage": "active",
        "started_at": "2026-01-02T04:04:05.678901+01:00",
        "finished_at": "2026-01-02T05:00:00+01:00",
        "owner": experiment.owner_id,
    }


def test_representation_in_utc_ends_with_z():
    experiment = ExperimentFactory(started_at=STARTED)
    data = ExperimentSerializer(Experiment.objects.for_display().get(pk=experiment.pk)).data
    assert data["started_at"] == "2026-01-02T03:04:05.678901Z"
    assert data["finished_at"] is None
    assert data["project"] is None
    assert data["results"] == {}
    assert data["run_tags"] == {}
