from rest_framework import serializers

from loggedmodels.models import LoggedModel, LoggedModelOutput


class LoggedModelSerializer(serializers.ModelSerializer):
    """A model a run logged (MLflow 3's LoggedModel), as the REST API shows it; written through MLflow's API only."""

    source_run_id = serializers.CharField(
        source="source_run.run_uuid",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The MLflow run id of the experiment that logged it, if any.",
    )

    class Meta:
        model = LoggedModel
        fields = [
            "model_id",
            "project",
            "name",
            "model_type",
            "status",
            "status_message",
            "source_run",
            "source_run_id",
            "creator",
            "tags",
            "params",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ModelOutputSerializer(serializers.ModelSerializer):
    """A model an experiment recorded as its output, at a step."""

    model = LoggedModelSerializer(read_only=True)

    class Meta:
        model = LoggedModelOutput
        fields = ["model", "step"]
        read_only_fields = fields
