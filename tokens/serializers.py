from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from common import serializers as strict
from common.schema import body_example
from tokens.models import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS, PersonalAccessToken, TokenScope


class PersonalAccessTokenSerializer(strict.ModelSerializer):
    """A personal access token as its owner sees it later: never the secret, only its first characters."""

    class Meta:
        model = PersonalAccessToken
        fields = ["id", "name", "scope", "token_prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[body_example("A token for nightly CI", name="ci-nightly", scope="write", expires_in_days=30)]
)
class PersonalAccessTokenCreateSerializer(strict.ModelSerializer):
    """What creates a token: a name, a scope and a lifetime in days."""

    name = strict.CharField(min_length=1, max_length=100, help_text="Unique among your tokens, whatever the case.")
    scope = serializers.ChoiceField(
        choices=TokenScope.choices,
        default=TokenScope.WRITE,
        help_text="`read` allows GET, HEAD and OPTIONS only; `write` allows everything a password login does, except "
        "creating tokens, changing the password and deleting the account.",
    )
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=MAX_LIFETIME_DAYS, default=DEFAULT_LIFETIME_DAYS, help_text="Days until it expires."
    )

    class Meta:
        model = PersonalAccessToken
        fields = ["name", "scope", "expires_in_days"]


class PersonalAccessTokenCreatedSerializer(PersonalAccessTokenSerializer):
    """A token just created, with its secret: the only response that ever carries it."""

    token = serializers.SerializerMethodField(help_text="The secret. Shown in this response only; store it now.")

    class Meta(PersonalAccessTokenSerializer.Meta):
        fields = ["id", "name", "scope", "token", "token_prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_token(self, obj) -> str:
        return self.context["secret"]
