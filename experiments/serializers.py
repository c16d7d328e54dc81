from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from experiments.models import (
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Experiment,
    validate_parameters,
    validate_results,
    validate_tags,
)
from projects.models import Project


@extend_schema_field({"type": "object", "additionalProperties": {}, "description": "At most 64 KB as JSON."})
class ParametersField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}})
class ResultsField(serializers.JSONField):
    pass


class TagField(serializers.CharField):
    """A string, and only a string: REST framework's CharField would turn a number into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WritableProjectField(serializers.PrimaryKeyRelatedField):
    """A project id, among the projects the caller may put experiments into; any other id is an invalid choice."""

    def get_queryset(self):
        writable = Project.objects.writable_by(self.context["request"].user)
        current = getattr(self.parent.instance, "project_id", None)
        # Sending back the project an experiment is already in is no move, whatever the caller's role there.
        return Project.objects.filter(Q(pk__in=writable.values("pk")) | Q(pk=current))


class ExperimentSerializer(serializers.ModelSerializer):
    """An experiment as the API shows it; the owner comes from the request, never from the body."""

    parameters = ParametersField(required=False, validators=[validate_parameters])
    results = ResultsField(required=False, validators=[validate_results])
    tags = serializers.ListField(
        child=TagField(max_length=TAG_MAX_LENGTH),
        max_length=TAGS_MAX_COUNT,
        required=False,
        validators=[validate_tags],
    )
    project = WritableProjectField(required=False, allow_null=True)

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
            "project",
            "started_at",
            "finished_at",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]
