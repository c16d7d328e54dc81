from rest_framework import serializers


class ArtifactEntrySerializer(serializers.Serializer):
    """One file or folder of an experiment's artifacts."""

    path = serializers.CharField(help_text="From the experiment's root, with `/` between folders.")
    is_dir = serializers.BooleanField()
    size = serializers.IntegerField(allow_null=True, help_text="In bytes; null for a folder.")
