from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from common.access import HasRole
from experiments.viewsets import ExperimentPartViewSet, experiment_part_schema
from loggedmodels import selectors, services
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel
from loggedmodels.serializers import LoggedModelSerializer, ModelOutputSerializer
from projects.viewsets import ProjectScopedMixin

NOT_A_VIEWER = OpenApiResponse(description="The project exists but the caller's role does not allow this.")


@extend_schema_view(
    list=extend_schema(
        summary="List a project's logged models (viewer and up)",
        responses={200: LoggedModelSerializer(many=True), 403: NOT_A_VIEWER},
    ),
    retrieve=extend_schema(
        summary="Read a logged model (viewer and up)", responses={200: LoggedModelSerializer, 403: NOT_A_VIEWER}
    ),
    destroy=extend_schema(
        summary="Delete a logged model (maintainer and up)",
        description="Softly, as MLflow's client deletes models: it no longer shows here nor in MLflow's searches, and "
        "its files are kept.",
        responses={204: None, 403: OpenApiResponse(description="Not a maintainer of the project.")},
    ),
)
class ProjectLoggedModelViewSet(
    ProjectScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The models the runs of one project logged (MLflow 3's logged models), addressed by their `model_id`: the
    caller's role in the project decides (LOGGED_MODEL_ACCESS)."""

    serializer_class = LoggedModelSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = LOGGED_MODEL_ACCESS
    http_method_names = ["get", "delete", "head", "options"]
    lookup_field = "model_id"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["created_at", "name"]
    ordering = ["created_at"]

    def access_operation(self, operation: str) -> str:
        return "retrieve" if operation == "list" else operation

    def get_queryset(self):
        return selectors.logged_model_list(user=self.request.user, project_ids=[self.kwargs.get("project_pk")])

    def get_object(self) -> LoggedModel:
        model = selectors.logged_model_get(user=self.request.user, model_id=self.kwargs["model_id"])
        if model is None or model.project_id != self.parent.pk:
            raise Http404
        self.check_object_permissions(self.request, model)
        return model

    def perform_destroy(self, instance: LoggedModel) -> None:
        services.logged_model_delete(actor=self.request.user, model=instance)


@experiment_part_schema(
    summary="List the models an experiment recorded as its outputs (viewer and up)", serializer=ModelOutputSerializer
)
class ExperimentOutputViewSet(ExperimentPartViewSet):
    """The models an experiment recorded as its outputs (MLflow's `runs/outputs`), with their steps, deleted models
    left out; whoever may read the experiment reads them."""

    serializer_class = ModelOutputSerializer

    def get_queryset(self):
        return selectors.experiment_outputs(experiment_id=self.kwargs.get("experiment_pk"))
