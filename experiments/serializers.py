from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from common import serializers as strict
from common.numbers import INT64_MAX, INT64_MIN
from common.schema import body_example
from common.serializers import datetime_text
from common.text import single_line
from experiments.models import Experiment
from experiments.validators import (
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    validate_parameters,
    validate_results,
    validate_tags,
)
from projects.access import projects_allowing
from projects.models import Project
from tracking.models import METRIC_KEY_MAX_LENGTH, NON_FINITE_NAMES, number_to_json
from tracking.services import KEY_PATTERN, KEY_RULE


@extend_schema_field({"type": "object", "additionalProperties": {}, "description": "At most 64 KB as JSON."})
class ParametersField(serializers.JSONField):
    pass


def results_json(results: dict[str, float]) -> dict[str, float | str]:
    return {key: number_to_json(number) for key, number in results.items()}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]
        },
        "description": "The latest value of each metric. Written values must be finite numbers; read back, NaN and "
        "infinities (which tracking clients may log) appear as the strings `NaN`, `Infinity` and `-Infinity`.",
    }
)
class ResultsField(serializers.JSONField):
    """Written: finite numbers recorded as metric points. Read: the latest value of each metric (non-finite by name)."""

    def get_attribute(self, instance):
        return instance.results

    def to_representation(self, value):
        return results_json(value)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "readOnly": True,
        "description": "Key/value tags set by tracking clients (MLflow), system tags included.",
    }
)
class RunTagsField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance.run_tag_values

    def to_representation(self, value):
        return value


class WritableProjectField(serializers.PrimaryKeyRelatedField):
    """A project id, among the projects the caller may put experiments into; any other id is an invalid choice."""

    def get_queryset(self):
        writable = projects_allowing(self.context["request"].user, "add_experiment")
        current = getattr(self.parent.instance, "project_id", None)
        # Sending back the project an experiment is already in is no move, whatever the caller's role there.
        return Project.objects.filter(Q(pk__in=writable.values("pk")) | Q(pk=current))


@extend_schema_serializer(
    examples=[
        body_example(
            "An experiment in a project",
            name="baseline-lr-0.01",
            description="Logistic regression, default features.",
            project=1,
            parameters={"lr": 0.01, "epochs": 20},
            tags=["baseline"],
        )
    ]
)
class ExperimentSerializer(strict.ModelSerializer):
    """An experiment as the API shows it; the owner comes from the request, never from the body."""

    # Initial values are what a new experiment gets, so that the browsable API's form starts from a valid body.
    parameters = ParametersField(required=False, initial=dict, validators=[validate_parameters])
    results = ResultsField(required=False, initial=dict, validators=[validate_results])
    tags = serializers.ListField(
        child=strict.CharField(min_length=1, max_length=TAG_MAX_LENGTH, validators=[single_line]),
        max_length=TAGS_MAX_COUNT,
        required=False,
        initial=list,
        validators=[validate_tags],
    )
    project = WritableProjectField(required=False, allow_null=True)
    run_id = serializers.CharField(
        source="run_uuid", read_only=True, help_text="The id tracking clients (MLflow) know this experiment by."
    )
    run_tags = RunTagsField()

    class Meta:
        model = Experiment
        fields = [
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
        ]
        read_only_fields = ["id", "owner", "lifecycle_stage", "created_at", "updated_at"]
        extra_kwargs = {"status": {"initial": Experiment.Status.DRAFT}}

    def to_representation(self, instance):
        # Written out: REST framework's walk over the fields, which it builds anew for every request, would cost more
        # than the rest of a list request. The fields above still define how each value is written, and
        # experiments/tests/test_representation.py holds this to the same answer as that walk.
        zone = timezone.get_current_timezone()
        return {
            "id": instance.pk,
            "name": instance.name,
            "description": instance.description,
            "status": instance.status,
            "parameters": instance.parameters,
            "results": results_json(instance.results),
            "tags": instance.tags,
            "run_tags": instance.run_tag_values,
            "project": instance.project_id,
            "run_id": instance.run_uuid,
            "lifecycle_stage": instance.lifecycle_stage,
            "started_at": datetime_text(instance.started_at, zone),
            "finished_at": datetime_text(instance.finished_at, zone),
            "owner": instance.owner_id,
            "created_at": datetime_text(instance.created_at, zone),
            "updated_at": datetime_text(instance.updated_at, zone),
        }


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE_NAMES)}],
        "description": "A number, or `NaN`, `Infinity` or `-Infinity` (JSON has no literal for them).",
    }
)
class MetricValueField(serializers.Field):
    """A metric value: a JSON number, or a non-finite value by name."""

    default_error_messages = {"invalid": "A number, or one of the strings NaN, Infinity and -Infinity, is required."}

    def to_internal_value(self, data) -> float:
        if isinstance(data, str) and data in NON_FINITE_NAMES:
            return NON_FINITE_NAMES[data]
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return float(data)

    def to_representation(self, value: float):
        return number_to_json(value)


class MetricPointSerializer(serializers.Serializer):
    """One point of a metric: its value at a step and a time (milliseconds since the epoch)."""

    key = strict.CharField(
        min_length=1,
        max_length=METRIC_KEY_MAX_LENGTH,
        validators=[RegexValidator(KEY_PATTERN, message=KEY_RULE)],
        help_text=KEY_RULE,
    )
    value = MetricValueField()
    step = serializers.IntegerField(min_value=INT64_MIN, max_value=INT64_MAX, default=0, help_text="Default 0.")
    timestamp = serializers.IntegerField(
        min_value=INT64_MIN,
        max_value=INT64_MAX,
        required=False,
        help_text="Milliseconds since the epoch; default: when the point is received.",
    )
