from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from accounts import services, sessions
from accounts.models import User
from accounts.permissions import IsPasswordLogin, IsRegistrationOpenOrStaff, IsSelfOrStaff
from accounts.serializers import (
    EmailChangeSerializer,
    EmailConfirmSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    TokenPairSerializer,
    TokenSerializer,
    UserCreateSerializer,
    UserSerializer,
)
from common.parsers import JSONParser
from common.throttles import (
    LOGIN_THROTTLES,
    PASSWORD_THROTTLES,
    REGISTRATION_THROTTLES,
    RESET_THROTTLES,
    AttemptThrottledMixin,
    remember_device,
)

UNAUTHORIZED = OpenApiResponse(description="Missing, invalid, expired or revoked credentials.")


@extend_schema_view(
    list=extend_schema(summary="List users"),
    retrieve=extend_schema(summary="Read a user"),
    create=extend_schema(
        summary="Register a user",
        description="Open to anyone while REGISTRATION_OPEN is set, else to staff. Throttled per address and e-mail. "
        "Also at `POST /auth/register`.",
        auth=[{}],
        responses={201: UserSerializer},
    ),
    update=extend_schema(summary="Replace a user's profile (the user or staff)"),
    partial_update=extend_schema(summary="Change a user's profile (the user or staff)"),
    destroy=extend_schema(summary="Delete a user and what they own (the user or staff)"),
)
class UserViewSet(viewsets.ModelViewSet):
    """Accounts: anyone registers (while registration is open), users read each other, each changes only themself."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["id", "username", "date_joined"]

    def get_serializer_class(self):
        return UserCreateSerializer if self.action == "create" else UserSerializer

    def get_object(self):
        if self.action == "me":
            self.check_object_permissions(self.request, self.request.user)
            return self.request.user
        return super().get_object()

    def get_permissions(self):
        if self.action == "create":
            return [IsRegistrationOpenOrStaff()]
        # Deleting an account, by whichever route, takes a password login. (No request while the schema is built.)
        if self.action == "destroy" or getattr(self.request, "method", None) == "DELETE":
            return [IsAuthenticated(), IsPasswordLogin(), IsSelfOrStaff()]
        return [IsAuthenticated(), IsSelfOrStaff()]

    def get_throttles(self):
        return (
            [throttle() for throttle in REGISTRATION_THROTTLES] if self.action == "create" else super().get_throttles()
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        data = UserSerializer(user, context={**self.get_serializer_context(), "show_email": True}).data
        location = reverse("user-detail", args=[user.pk], request=request)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})

    def update(self, request, *args, **kwargs):
        user = self.get_object()
        serializer = self.get_serializer(user, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.user_update(user=user, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(user).data)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, actor=self.request.user)

    @extend_schema(summary="The caller's own account", description="Also at `GET /me`.", methods=["GET"])
    @extend_schema(summary="Change the caller's own account", methods=["PUT", "PATCH"])
    @action(detail=False, methods=["get", "put", "patch"], url_path="me")
    def me(self, request):
        if request.method == "GET":
            return self.retrieve(request)
        return self.update(request, partial=request.method == "PATCH")


class AuthViewSet(AttemptThrottledMixin, viewsets.GenericViewSet):
    """Tokens: log in with a password, rotate and verify tokens, log out, change the password.

    These routes authenticate by what is in the body, so a stale `Authorization` header never stands in the way.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    serializer_class = LoginSerializer

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    def get_serializer_class(self):
        return {
            "refresh": RefreshSerializer,
            "logout": RefreshSerializer,
            "verify": TokenSerializer,
            "password": PasswordChangeSerializer,
            "email": EmailChangeSerializer,
            "email_confirm": EmailConfirmSerializer,
            "password_reset": PasswordResetSerializer,
            "password_reset_confirm": PasswordResetConfirmSerializer,
        }.get(self.action, LoginSerializer)

    def _validated(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer

    @extend_schema(
        summary="Log in: obtain an access and a refresh token",
        description="The OAuth2 password grant. `username` takes a username or an e-mail; JSON or form-encoded. "
        "Also at `POST /login`.\n\nFailed attempts are throttled per client address and per account (successes are "
        "not counted). A successful login also sets the `registry_device` cookie (signed, HttpOnly, SameSite=Lax, "
        "Secure over HTTPS), naming the account: a client that sends it back when logging in to that account again "
        "(a browser, or a client with a cookie jar) is counted apart, so that other people's failures do not lock it "
        "out.",
        responses={200: TokenPairSerializer, 401: UNAUTHORIZED},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="token",
        throttle_classes=LOGIN_THROTTLES,
        parser_classes=[JSONParser, FormParser, MultiPartParser],
    )
    def token(self, request):
        serializer = self._validated(request)
        response = Response(sessions.token_obtain(user=serializer.user))
        remember_device(request, response, serializer.user)
        return response

    @extend_schema(
        summary="Trade a refresh token for a new pair",
        description="The refresh token sent is blacklisted: each can be used once.",
        responses={200: TokenPairSerializer, 401: UNAUTHORIZED},
    )
    @action(detail=False, methods=["post"], url_path="token/refresh")
    def refresh(self, request):
        serializer = self._validated(request)
        return Response(sessions.token_rotate(refresh=serializer.validated_data["refresh"]))

    @extend_schema(
        summary="Check a token",
        description="200 exactly when the token would be accepted where it is used: an access token by every "
        "endpoint, a refresh token by /auth/token/refresh. Otherwise 401.",
        responses={200: OpenApiResponse(description="Valid."), 401: UNAUTHORIZED},
    )
    @action(detail=False, methods=["post"], url_path="token/verify")
    def verify(self, request):
        sessions.token_verify(token=self._validated(request).validated_data["token"])
        return Response({})

    @extend_schema(summary="Log out: revoke a refresh token", responses={204: None, 401: UNAUTHORIZED})
    @action(detail=False, methods=["post"], url_path="logout")
    def logout(self, request):
        serializer = self._validated(request)
        sessions.token_revoke(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Change the caller's password",
        description="Every token issued before stops working; log in again with the new password. Failures are "
        "throttled with logins, per address and per account.",
        responses={204: None, 401: UNAUTHORIZED},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="password",
        authentication_classes=api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        permission_classes=[IsAuthenticated, IsPasswordLogin],
        throttle_classes=PASSWORD_THROTTLES,
    )
    def password(self, request):
        serializer = self._validated(request)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Change the caller's e-mail",
        description="Takes the current password (so no personal access token can do it). The new address is mailed "
        "a one-time link for /auth/email/confirm and the current one a notice; the e-mail changes only once the link "
        "is used, and until then every mail, password resets included, goes to the current address. Throttled with "
        "logins, per address and per account.",
        responses={202: None, 401: UNAUTHORIZED},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="email",
        authentication_classes=api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        permission_classes=[IsAuthenticated, IsPasswordLogin],
        throttle_classes=PASSWORD_THROTTLES,
    )
    def email(self, request):
        services.user_request_email_change(
            user=request.user, actor=request.user, **self._validated(request).validated_data
        )
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Confirm a new e-mail with the token mailed to it",
        description="204, and the account's e-mail is the new one. A used, expired or forged token answers 400; so "
        "does one sent before the password changed. Throttled with logins.",
        auth=[{}],
        responses={204: None},
    )
    @action(detail=False, methods=["post"], url_path="email/confirm", throttle_classes=PASSWORD_THROTTLES)
    def email_confirm(self, request):
        services.user_confirm_email_change(**self._validated(request).validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Ask for a password reset mail",
        description="Always 204, whether or not an account has this e-mail; when one does, it is mailed a one-time "
        "`uid` and `token` for /auth/password/reset/confirm. Throttled per address and per e-mail.",
        auth=[{}],
        responses={204: None},
    )
    @action(detail=False, methods=["post"], url_path="password/reset", throttle_classes=RESET_THROTTLES)
    def password_reset(self, request):
        services.user_request_password_reset(email=self._validated(request).validated_data["email"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set a new password with a reset mail's token",
        description="204, and every token issued before stops working, as after a password change. A used, expired "
        "or forged token answers 400. Failures are throttled with logins, per address.",
        auth=[{}],
        responses={204: None},
    )
    @action(detail=False, methods=["post"], url_path="password/reset/confirm", throttle_classes=PASSWORD_THROTTLES)
    def password_reset_confirm(self, request):
        services.user_reset_password(**self._validated(request).validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
