from rest_framework import serializers

from projects.models import NAME_TAKEN, Project


class ProjectSerializer(serializers.ModelSerializer):
    """A project; `owner` comes from the request and `experiment_count` from the queryset's annotation."""

    name = serializers.CharField(max_length=255)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    experiment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "expiration_date",
            "owner",
            "experiment_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        # The database constraint is the last word (see services); this check names the field in the common case.
        owner = self.instance.owner if self.instance else self.context["request"].user
        clashes = Project.objects.filter(owner=owner, name__iexact=value)
        if self.instance is not None:
            clashes = clashes.exclude(pk=self.instance.pk)
        if clashes.exists():
            raise serializers.ValidationError(NAME_TAKEN)
        return value
