from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainSerializer

from accounts.models import User
from accounts.validators import validate_username
from common import serializers as strict
from common.schema import body_example

PASSWORD_MAX_LENGTH = 256
PASSWORD_MIN_LENGTH = 8  # Django's MinimumLengthValidator, as configured in AUTH_PASSWORD_VALIDATORS.


def _password_field(**kwargs) -> serializers.CharField:
    # Bounded, so that a huge password is refused before it reaches the validators and the hasher.
    return strict.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        **kwargs,
    )


def _new_password_field(**kwargs) -> serializers.CharField:
    # What of Django's password validators a schema can state: the length and "not digits alone". The list of common
    # passwords and the likeness to the user's own names are checked by the validators alone.
    return _password_field(
        min_length=PASSWORD_MIN_LENGTH,
        validators=[
            RegexValidator(r"\D", message="This password is entirely numeric.", code="password_entirely_numeric")
        ],
        **kwargs,
    )


@extend_schema_serializer(
    examples=[
        body_example(
            "Names (username and e-mail as they are)",
            username="alice",
            email="alice@example.com",
            first_name="Alice",
            last_name="Martin",
            age=34,
        )
    ]
)
class UserSerializer(strict.ModelSerializer):
    """A user as the API shows it: `email` only to the user themself and to staff, never a password.

    Uniqueness of the username and the e-mail (in their folded form) is the model's to check, in the services.
    """

    username = strict.CharField(min_length=1, max_length=150, validators=[validate_username])
    email = strict.EmailField(max_length=254)
    pending_email = serializers.EmailField(
        read_only=True,
        allow_null=True,
        source="pending_email_or_none",
        help_text="A new e-mail asked for and not confirmed yet (null if none); `email` changes once the link mailed "
        "to it is used.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "pending_email",
            "first_name",
            "last_name",
            "full_name",
            "age",
            "is_active",
            "is_staff",
            "date_joined",
            "updated_at",
        ]
        read_only_fields = ["id", "pending_email", "is_active", "is_staff", "date_joined", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if not (self.context.get("show_email") or viewer == instance or getattr(viewer, "is_staff", False)):
            data.pop("email", None)
            data.pop("pending_email", None)
        return data


@extend_schema_serializer(
    examples=[
        body_example(
            "A new account",
            username="alice",
            email="alice@example.com",
            password="correct-horse-battery",
            first_name="Alice",
            last_name="Martin",
        )
    ]
)
class UserCreateSerializer(UserSerializer):
    """Registration: a user's fields plus the password, which Django's validators check in the service.

    `username` may be left out: one is made from the e-mail. Staff may leave out the password: the account then has
    none until its owner sets one through a password reset.
    """

    username = strict.CharField(
        min_length=1,
        max_length=150,
        validators=[validate_username],
        required=False,
        help_text="Optional: without it, one is made from the e-mail's local part (the answer shows it).",
    )
    password = _new_password_field(
        required=False, help_text="Required, except when staff create an account for someone (see password reset)."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        request = self.context.get("request")
        if "password" not in attrs and not getattr(getattr(request, "user", None), "is_staff", False):
            raise serializers.ValidationError({"password": ["This field is required."]})
        attrs.setdefault("password", None)
        return attrs


@extend_schema_serializer(
    examples=[
        body_example("A new password", current_password="correct-horse-battery", new_password="staple-lantern-orbit-42")
    ]
)
class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password_field(min_length=1)
    new_password = _new_password_field()


@extend_schema_serializer(
    examples=[body_example("A new address", current_password="correct-horse-battery", email="alice@new.example.com")]
)
class EmailChangeSerializer(serializers.Serializer):
    current_password = _password_field(min_length=1)
    email = strict.EmailField(max_length=254, help_text="The new e-mail; it takes effect once confirmed.")


@extend_schema_serializer(
    examples=[body_example("From the confirmation mail", uid="MQ", token="cjx9k2-5f0e8c1d2b3a4f5e6d7c8b9a0f1e2d3c")]
)
class EmailConfirmSerializer(serializers.Serializer):
    uid = strict.CharField(min_length=1, max_length=64, help_text="The `uid` from the confirmation mail.")
    token = strict.CharField(min_length=1, max_length=128, help_text="The `token` from the confirmation mail.")


@extend_schema_serializer(examples=[body_example("The account's e-mail", email="alice@example.com")])
class PasswordResetSerializer(serializers.Serializer):
    email = strict.EmailField(max_length=254, help_text="The e-mail of the account.")


@extend_schema_serializer(
    examples=[
        body_example(
            "From the reset mail",
            uid="MQ",
            token="cjx9k2-5f0e8c1d2b3a4f5e6d7c8b9a0f1e2d3c",
            new_password="staple-lantern-orbit-42",
        )
    ]
)
class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = strict.CharField(min_length=1, max_length=64, help_text="The `uid` from the reset mail.")
    token = strict.CharField(min_length=1, max_length=128, help_text="The `token` from the reset mail.")
    new_password = _new_password_field()


@extend_schema_serializer(
    examples=[body_example("A username and its password", username="alice", password="correct-horse-battery")]
)
class LoginSerializer(TokenObtainSerializer):
    """The OAuth2 password grant: `username` (a username or an e-mail) and `password`, as JSON or a form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = strict.CharField(
            write_only=True, max_length=254, help_text="A username or an e-mail address."
        )
        self.fields["password"] = _password_field()


class TokenPairSerializer(serializers.Serializer):
    """The tokens issued at login and at refresh, in simplejwt's names and in the OAuth2 token response's names."""

    access = serializers.CharField(help_text="Access token, for `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Refresh token, for /auth/token/refresh and /auth/logout.")
    access_token = serializers.CharField(help_text="The access token again, as OAuth2 clients expect it.")
    token_type = serializers.CharField(help_text='Always "bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


@extend_schema_serializer(
    examples=[
        body_example(
            "A refresh token",
            refresh="eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln",
        )
    ]
)
class RefreshSerializer(serializers.Serializer):
    refresh = strict.CharField(min_length=1)


@extend_schema_serializer(
    examples=[body_example("An access token", token="eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2ln")]
)
class TokenSerializer(serializers.Serializer):
    token = strict.CharField(min_length=1, help_text="An access or a refresh token.")
