from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from common import serializers as strict
from common.schema import body_example
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    ALIAS_MAX_LENGTH,
    ModelStage,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
)
from projects.models import Project, ProjectRole


class CreatableProjectField(serializers.PrimaryKeyRelatedField):
    """A project id, among the projects where the caller may create registered models; any other is an invalid
    choice."""

    def get_queryset(self):
        user = self.context["request"].user
        return Project.objects.where_role_in(user, REGISTERED_MODEL_ACCESS.roles_for("create"))


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "string"}, "readOnly": True, "description": "Key/value tags."}
)
class TagsField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, instance):
        return {tag.key: tag.value for tag in instance.tags.all()}


class AliasSerializer(serializers.ModelSerializer):
    """An alias, the version it points at, and who set it there when."""

    version = serializers.IntegerField(source="model_version.version", read_only=True)
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RegisteredModelAlias
        fields = ["alias", "version", "set_by", "set_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[body_example("Champion is version 2", alias="champion", version=2)])
class AliasSetSerializer(serializers.Serializer):
    """Point an alias at a version of the model."""

    alias = strict.CharField(max_length=ALIAS_MAX_LENGTH)
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


@extend_schema_serializer(
    examples=[
        body_example(
            "A model in project 1",
            project=1,
            name="churn-classifier",
            description="Predicts churn; retrained monthly.",
        )
    ]
)
class RegistryObjectSerializer(strict.ModelSerializer):
    """What a registered model and a version both show: the caller's role, who made it, and its tags."""

    role = serializers.ChoiceField(
        choices=ProjectRole.choices, read_only=True, help_text="Your role in the model's project: what you may do."
    )
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    tags = TagsField()


class RegisteredModelSerializer(RegistryObjectSerializer):
    """A registered model as the API shows it. It is made in a project where the caller is an editor, and stays there;
    renaming it takes a maintainer, its description an editor."""

    project = CreatableProjectField()
    aliases = AliasSerializer(many=True, read_only=True)

    class Meta:
        model = RegisteredModel
        fields = [
            "id",
            "project",
            "name",
            "description",
            "tags",
            "aliases",
            "role",
            "creator",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["creator", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # A model stays in its project.
            fields["project"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class VersionAliasSerializer(serializers.ModelSerializer):
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RegisteredModelAlias
        fields = ["alias", "set_by", "set_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[body_example("A description", description="Trained on the March data.")])
class ModelVersionSerializer(RegistryObjectSerializer):
    """A version of a registered model; only its description is written here (its stage by `transition`, its aliases
    on the model). MLflow's client registers versions."""

    name = serializers.CharField(source="registered_model.name", read_only=True)
    project = serializers.IntegerField(source="registered_model.project_id", read_only=True)
    run_id = serializers.CharField(source="run_uuid", read_only=True)
    aliases = VersionAliasSerializer(many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "registered_model",
            "name",
            "project",
            "version",
            "description",
            "stage",
            "status",
            "source",
            "run_id",
            "model_id",
            "storage_location",
            "tags",
            "aliases",
            "role",
            "creator",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [name for name in fields if name != "description"]


@extend_schema_serializer(examples=[body_example("To production", stage="Production", archive_existing_versions=True)])
class TransitionSerializer(serializers.Serializer):
    """Move a version to a stage; `archive_existing_versions` (Staging and Production only) archives the model's
    other versions there."""

    stage = serializers.ChoiceField(choices=ModelStage.choices)
    archive_existing_versions = serializers.BooleanField(default=False)
