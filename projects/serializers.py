from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import MAX_ID, User
from common import serializers as strict
from common.schema import body_example
from projects.models import MEMBER_ROLES, Project, ProjectInvitation, ProjectMembership, ProjectRole


@extend_schema_serializer(
    examples=[
        body_example(
            "A project",
            name="churn-model",
            description="Monthly retraining of the churn classifier.",
            expiration_date="2027-06-30",
        )
    ]
)
class ProjectSerializer(strict.ModelSerializer):
    """A project; `owner` comes from the request and `experiment_count` from the queryset's annotation.

    That an owner's project names differ (in their folded form) is the model's constraint, checked by the services.
    """

    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    experiment_count = serializers.IntegerField(read_only=True)
    role = serializers.ChoiceField(
        choices=ProjectRole.choices, read_only=True, help_text="Your role in the project: what you may do in it."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "expiration_date",
            "owner",
            "experiment_count",
            "role",
            "lifecycle_stage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "lifecycle_stage", "created_at", "updated_at"]


class UserSummarySerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name"]
        read_only_fields = fields


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "minLength": 1, "maxLength": 254},
        ],
        "description": "A user: an id as a JSON integer, or a username or an e-mail as a string (never an id).",
    }
)
class UserReferenceField(serializers.Field):
    """A user named as `UserQuerySet.identified_by` reads it: an integer is an id, a string a username or e-mail."""

    default_error_messages = {"unknown": "No active user matches {value}."}

    def to_internal_value(self, data):
        user = User.objects.identified_by(data).filter(is_active=True).first()
        if user is None:
            self.fail("unknown", value=repr(data.strip() if isinstance(data, str) else data))
        return user

    def to_representation(self, value):
        return UserSummarySerializer(value).data


@extend_schema_serializer(
    examples=[body_example("A new role and term", role="maintainer", expires_at="2027-12-31T23:59:59Z")]
)
class MembershipSerializer(strict.ModelSerializer):
    """A member of a project and their role; `expires_at` (optional) ends the membership."""

    user = UserSummarySerializer(read_only=True)
    added_by = UserSummarySerializer(read_only=True)
    role = serializers.ChoiceField(choices=MEMBER_ROLES)

    class Meta:
        model = ProjectMembership
        fields = ["user", "role", "added_by", "created_at", "updated_at", "expires_at"]
        read_only_fields = ["user", "added_by", "created_at", "updated_at"]


@extend_schema_serializer(
    examples=[
        body_example(
            "An editor until the end of 2027", user="bob@example.com", role="editor", expires_at="2027-12-31T23:59:59Z"
        )
    ]
)
class MembershipCreateSerializer(MembershipSerializer):
    user = UserReferenceField(help_text="The user to add: an id, a username or an e-mail address.")

    class Meta(MembershipSerializer.Meta):
        read_only_fields = ["added_by", "created_at", "updated_at"]


@extend_schema_serializer(examples=[body_example("The new owner", user="bob")])
class TransferSerializer(serializers.Serializer):
    user = UserReferenceField(help_text="The new owner: an id, a username or an e-mail address.")


class ProjectSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name"]
        read_only_fields = fields


class InvitationSerializer(strict.ModelSerializer):
    """An invitation to a project: a membership (`role`, until `membership_expires_at`) or the project itself
    (`transfer`), pending until its invitee accepts or declines it, and acceptable until `expires_at`."""

    project = ProjectSummarySerializer(read_only=True)
    invitee = UserSummarySerializer(read_only=True)
    invited_by = UserSummarySerializer(read_only=True, allow_null=True)
    role = serializers.ChoiceField(
        choices=[*MEMBER_ROLES, ("", "None")],
        read_only=True,
        help_text="The role offered; empty for a transfer.",
    )

    class Meta:
        model = ProjectInvitation
        fields = [
            "id",
            "kind",
            "project",
            "invitee",
            "invited_by",
            "role",
            "membership_expires_at",
            "status",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields
