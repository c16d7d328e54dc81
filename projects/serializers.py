from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from projects.models import MEMBER_ROLES, NAME_TAKEN, Project, ProjectMembership, ProjectRole
from registry import serializers as strict


class ProjectSerializer(strict.ModelSerializer):
    """A project; `owner` comes from the request and `experiment_count` from the queryset's annotation."""

    name = strict.CharField(max_length=255)
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


class UserSummarySerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name"]
        read_only_fields = fields


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "A user id, username or e-mail."}
)
class UserReferenceField(serializers.Field):
    """A user named by id, username or e-mail (either in any case)."""

    default_error_messages = {"unknown": "No active user matches {value}."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)) or not str(data).strip():
            self.fail("unknown", value=repr(data))
        value = str(data).strip()
        match = Q(username__iexact=value) | Q(email__iexact=value)
        if value.isdigit() and len(value) < 19:
            match |= Q(pk=int(value))
        users = list(User.objects.filter(match, is_active=True)[:2])
        if not users:
            self.fail("unknown", value=repr(value))
        # A username that equals another account's e-mail names its own account, as at login.
        return next((user for user in users if user.username.lower() == value.lower()), users[0])

    def to_representation(self, value):
        return UserSummarySerializer(value).data


class MembershipSerializer(strict.ModelSerializer):
    """A member of a project and their role; `expires_at` (optional) ends the membership."""

    user = UserSummarySerializer(read_only=True)
    added_by = UserSummarySerializer(read_only=True)
    role = serializers.ChoiceField(choices=MEMBER_ROLES)

    class Meta:
        model = ProjectMembership
        fields = ["user", "role", "added_by", "created_at", "updated_at", "expires_at"]
        read_only_fields = ["user", "added_by", "created_at", "updated_at"]

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value


class MembershipCreateSerializer(MembershipSerializer):
    user = UserReferenceField(help_text="The user to add: an id, a username or an e-mail address.")

    class Meta(MembershipSerializer.Meta):
        read_only_fields = ["added_by", "created_at", "updated_at"]


class TransferSerializer(serializers.Serializer):
    user = UserReferenceField(help_text="The new owner: an id, a username or an e-mail address.")
