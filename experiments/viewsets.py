"""What other apps' ViewSets of an experiment's parts build on."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from common.access import HasRole
from common.viewsets import ParentScopedMixin
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment


class ExperimentPartViewSet(ParentScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list of what belongs to one experiment (`/experiments/{experiment_pk}/...`), read by whoever may read the
    experiment: someone who may not answers 403, a missing experiment 404. A subclass names its serializer and
    queryset."""

    permission_classes = [IsAuthenticated, HasRole]
    access = EXPERIMENT_ACCESS
    http_method_names = ["get", "head", "options"]
    parent_kwarg = "experiment_pk"
    filter_backends = []

    def access_operation(self, operation: str) -> str:
        return "retrieve"

    def get_parent_queryset(self):
        return Experiment.objects.with_access(self.request.user)


def experiment_part_schema(*, summary: str, serializer):
    """The OpenAPI description of an ExperimentPartViewSet's list: `summary`, its rows shown by `serializer`."""
    refused = OpenApiResponse(description="The caller may not read the experiment.")
    return extend_schema_view(list=extend_schema(summary=summary, responses={200: serializer(many=True), 403: refused}))
