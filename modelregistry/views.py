from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.access import HasRole
from common.viewsets import ServiceDestroyMixin, ServiceModelMixin, ServiceUpdateMixin
from modelregistry import aliases, selectors, services, versions
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.filters import ModelVersionFilterSet, RegisteredModelFilterSet
from modelregistry.serializers import (
    AliasSerializer,
    AliasSetSerializer,
    ModelVersionSerializer,
    RegisteredModelSerializer,
    TransitionSerializer,
)
from projects.viewsets import ProjectPartListViewSet

NOT_YOURS = OpenApiResponse(description="It exists, but your role in its project does not allow this.")
INVALID = OpenApiResponse(description="Field errors, or a rule of the registry (a name taken, a reserved alias).")


@extend_schema_view(
    list=extend_schema(summary="List the registered models you may see, with their aliases"),
    create=extend_schema(
        summary="Create a registered model",
        description="In `project`, where you must be an editor; its name is unique within the project.",
        responses={201: RegisteredModelSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(
        summary="Read a registered model", responses={200: RegisteredModelSerializer, 403: NOT_YOURS}
    ),
    update=extend_schema(
        summary="Replace a registered model",
        description="A new `name` takes a maintainer; `description` an editor.",
        responses={200: RegisteredModelSerializer, 400: INVALID, 403: NOT_YOURS},
    ),
    partial_update=extend_schema(
        summary="Change a registered model",
        description="A new `name` takes a maintainer; `description` an editor.",
        responses={200: RegisteredModelSerializer, 400: INVALID, 403: NOT_YOURS},
    ),
    destroy=extend_schema(
        summary="Delete a registered model, its versions and aliases (maintainers)",
        responses={204: None, 403: NOT_YOURS},
    ),
)
class RegisteredModelViewSet(ServiceModelMixin, viewsets.ModelViewSet):
    """Registered models, by the caller's role in each model's project; one they may not see answers 403, a missing
    id 404."""

    serializer_class = RegisteredModelSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = REGISTERED_MODEL_ACCESS
    filterset_class = RegisteredModelFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name", "id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.registered_model_list(user=self.request.user)

    def get_object(self):
        model = selectors.registered_model_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        if model is None:
            raise Http404
        self.check_object_permissions(self.request, model)
        return model

    def access_operation(self, operation: str) -> str:
        return {"aliases": "alias", "alias": "alias"}.get(operation, operation)

    def read_back(self, instance):
        return self.get_queryset().with_role(self.request.user).get(pk=instance.pk)

    def service_create(self, data):
        return services.registered_model_create(actor=self.request.user, **data)

    def service_update(self, instance, data):
        if "name" in data and data["name"] != instance.name:
            services.registered_model_rename(actor=self.request.user, model=instance, new_name=data["name"])
        if "description" in data and data["description"] != instance.description:
            services.registered_model_update(actor=self.request.user, model=instance, description=data["description"])
        return instance

    def service_destroy(self, instance):
        services.registered_model_delete(actor=self.request.user, model=instance)

    @extend_schema(
        summary="Point an alias at a version (maintainers)",
        description="Records who set it and when; the project's other maintainers get a mail.",
        request=AliasSetSerializer,
        responses={200: AliasSerializer, 400: INVALID, 403: NOT_YOURS},
    )
    @action(detail=True, methods=["post"], serializer_class=AliasSetSerializer)
    def aliases(self, request, pk=None):
        model = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            version = selectors.model_version_get(model=model, version=serializer.validated_data["version"])
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
        alias = aliases.alias_set(
            actor=request.user, model=model, alias=serializer.validated_data["alias"], version=version
        )
        return Response(AliasSerializer(alias).data)

    @extend_schema(summary="Remove an alias (maintainers)", request=None, responses={204: None, 403: NOT_YOURS})
    @action(detail=True, methods=["delete"], url_path=r"aliases/(?P<alias>[\w\-]+)")
    def alias(self, request, pk=None, alias=None):
        aliases.alias_delete(actor=request.user, model=self.get_object(), alias=alias)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(list=extend_schema(summary="List a project's registered models"))
class ProjectRegisteredModelViewSet(ProjectPartListViewSet):
    """The registered models of one project; the project answers 403 to a caller who may not read it, 404 when it
    does not exist."""

    serializer_class = RegisteredModelSerializer
    filterset_class = RegisteredModelFilterSet
    ordering_fields = RegisteredModelViewSet.ordering_fields
    ordering = RegisteredModelViewSet.ordering

    def get_queryset(self):
        models = selectors.registered_model_list(user=self.request.user)
        return models.filter(project_id=self.kwargs.get("project_pk"))


@extend_schema_view(
    list=extend_schema(summary="List the versions of the registered models you may see, with their aliases"),
    retrieve=extend_schema(summary="Read a model version", responses={200: ModelVersionSerializer, 403: NOT_YOURS}),
    update=extend_schema(summary="Replace a model version's description (editors)"),
    partial_update=extend_schema(summary="Change a model version's description (editors)"),
    destroy=extend_schema(
        summary="Delete a model version (maintainers); its number is never given again",
        responses={204: None, 403: NOT_YOURS},
    ),
)
class ModelVersionViewSet(
    ServiceUpdateMixin,
    ServiceDestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Model versions, by the caller's role in their model's project. MLflow's client registers them
    (`POST /api/2.0/mlflow/model-versions/create`)."""

    serializer_class = ModelVersionSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = REGISTERED_MODEL_ACCESS
    filterset_class = ModelVersionFilterSet
    ordering_fields = ["version", "created_at", "updated_at"]
    ordering = ["registered_model_id", "version"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.model_version_list(user=self.request.user)

    def get_object(self):
        version = selectors.model_version_get_by_pk(user=self.request.user, pk=int(self.kwargs["pk"]))
        if version is None:
            raise Http404
        self.check_object_permissions(self.request, version)
        return version

    def access_operation(self, operation: str) -> str:
        return {"destroy": "destroy_version", "transition": "stage"}.get(operation, operation)

    def read_back(self, instance):
        return selectors.model_version_get_by_pk(user=self.request.user, pk=instance.pk)

    def service_update(self, instance, data):
        return versions.model_version_update(
            actor=self.request.user, version=instance, description=data.get("description", "")
        )

    def service_destroy(self, instance):
        versions.model_version_delete(actor=self.request.user, version=instance)

    @extend_schema(
        summary="Move a version to another stage (maintainers)",
        request=TransitionSerializer,
        responses={200: ModelVersionSerializer, 400: INVALID, 403: NOT_YOURS},
    )
    @action(detail=True, methods=["post"], serializer_class=TransitionSerializer)
    def transition(self, request, pk=None):
        version = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        versions.model_version_transition_stage(actor=request.user, version=version, **serializer.validated_data)
        return Response(ModelVersionSerializer(self.read_back(version), context=self.get_serializer_context()).data)
