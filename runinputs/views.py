from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from common.access import HasRole
from common.viewsets import ParentScopedMixin
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment
from runinputs import selectors
from runinputs.serializers import DatasetInputSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List the datasets an experiment used (viewer and up)",
        responses={403: OpenApiResponse(description="The caller may not read the experiment.")},
    )
)
class ExperimentInputViewSet(ParentScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The datasets an experiment used (MLflow's `runs/log-inputs`), in the order it logged them; whoever may read the
    experiment reads them."""

    serializer_class = DatasetInputSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = EXPERIMENT_ACCESS
    http_method_names = ["get", "head", "options"]
    parent_kwarg = "experiment_pk"
    filter_backends = []

    def access_operation(self, operation: str) -> str:
        return "retrieve"

    def get_parent_queryset(self):
        return Experiment.objects.with_access(self.request.user)

    def get_queryset(self):
        return selectors.experiment_dataset_inputs(experiment_id=self.kwargs.get("experiment_pk"))
