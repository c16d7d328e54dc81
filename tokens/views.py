from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.permissions import IsPasswordLogin
from common.throttles import TOKEN_THROTTLES
from common.viewsets import ServiceCreateMixin, ServiceDestroyMixin
from tokens import services
from tokens.models import PersonalAccessToken
from tokens.serializers import (
    PersonalAccessTokenCreatedSerializer,
    PersonalAccessTokenCreateSerializer,
    PersonalAccessTokenSerializer,
)

NOT_FOUND = OpenApiResponse(description="No token of yours has this id (someone else's token is not found either).")


@extend_schema_view(
    list=extend_schema(summary="List your personal access tokens (newest first, without their secrets)"),
    create=extend_schema(
        summary="Create a personal access token",
        description="Answers with the secret (`token`), which is shown this once. Needs a password login (an access "
        "token or a session): a personal access token cannot create another. The owner is sent an e-mail naming the "
        "token. Throttled per client address and per account.",
        request=PersonalAccessTokenCreateSerializer,
        responses={201: PersonalAccessTokenCreatedSerializer},
    ),
    retrieve=extend_schema(
        summary="Read one of your personal access tokens",
        responses={200: PersonalAccessTokenSerializer, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Revoke one of your personal access tokens",
        description="The token stops working at once.",
        responses={204: None, 404: NOT_FOUND},
    ),
)
class PersonalAccessTokenViewSet(
    ServiceCreateMixin,
    ServiceDestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's personal access tokens. Someone else's token answers 404, so that ids reveal nothing."""

    serializer_class = PersonalAccessTokenSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "expires_at", "last_used_at", "name"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return PersonalAccessToken.objects.visible_to(self.request.user)

    def get_serializer_class(self):
        return PersonalAccessTokenCreateSerializer if self.action == "create" else PersonalAccessTokenSerializer

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), IsPasswordLogin()]
        return super().get_permissions()

    def get_throttles(self):
        return [throttle() for throttle in TOKEN_THROTTLES] if self.action == "create" else super().get_throttles()

    def service_create(self, data):
        token, self.secret = services.token_create(user=self.request.user, **data)
        return token

    def read_back(self, instance):
        return instance

    def get_read_serializer(self, instance):
        context = {**self.get_serializer_context(), "secret": self.secret}
        return PersonalAccessTokenCreatedSerializer(instance, context=context)

    def service_destroy(self, instance):
        services.token_revoke(token=instance)
