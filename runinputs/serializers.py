from rest_framework import serializers

from runinputs.models import CONTEXT_TAG, DatasetInput


class DatasetInputSerializer(serializers.ModelSerializer):
    """A dataset an experiment used, with how it used it (`context`, the `mlflow.data.context` tag) and the input's
    tags; logged through MLflow's API only."""

    name = serializers.CharField(source="dataset.name", read_only=True)
    digest = serializers.CharField(source="dataset.digest", read_only=True)
    source_type = serializers.CharField(source="dataset.source_type", read_only=True)
    source = serializers.CharField(source="dataset.source", read_only=True)
    schema = serializers.CharField(source="dataset.schema", read_only=True)
    profile = serializers.CharField(source="dataset.profile", read_only=True)
    context = serializers.SerializerMethodField()

    class Meta:
        model = DatasetInput
        fields = ["name", "digest", "source_type", "source", "schema", "profile", "context", "tags"]
        read_only_fields = fields

    def get_context(self, link: DatasetInput) -> str:
        return link.tags.get(CONTEXT_TAG, "")
