from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from experiments import services
from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment
from experiments.permissions import HasExperimentRole
from experiments.serializers import ExperimentSerializer
from projects.models import ProjectRole

NOT_YOURS = OpenApiResponse(description="The experiment exists but the caller's role does not allow this.")
NOT_FOUND = OpenApiResponse(description="No experiment has this id.")
INVALID = OpenApiResponse(description="Field errors, or a status move that is not allowed (the allowed ones named).")


@extend_schema_view(
    list=extend_schema(summary="List the experiments you may see: your own and those in projects you can see"),
    create=extend_schema(
        summary="Create an experiment",
        description="The caller owns it. It starts as a draft; `status` may also name a move from draft.",
        responses={201: ExperimentSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(summary="Read an experiment", responses={200: ExperimentSerializer, 403: NOT_YOURS}),
    update=extend_schema(
        summary="Replace an experiment",
        description="A new `status` must be an allowed move: draft to running or cancelled; running to completed, "
        "failed or cancelled. A final status goes back to running only by a re-run.",
        responses={200: ExperimentSerializer, 400: INVALID, 403: NOT_YOURS},
    ),
    partial_update=extend_schema(
        summary="Change an experiment",
        description="A new `status` must be an allowed move: draft to running or cancelled; running to completed, "
        "failed or cancelled. A final status goes back to running only by a re-run.",
        responses={200: ExperimentSerializer, 400: INVALID, 403: NOT_YOURS},
    ),
    destroy=extend_schema(summary="Delete an experiment", responses={204: None, 403: NOT_YOURS}),
)
class ExperimentViewSet(viewsets.ModelViewSet):
    """Experiments: owners track their own, project members act by role; no access answers 403, a missing id 404."""

    serializer_class = ExperimentSerializer
    permission_classes = [IsAuthenticated, HasExperimentRole]
    # Owners may do everything with their own experiments; others by their role in the experiment's project.
    required_roles = {
        "retrieve": ProjectRole.VIEWER,
        "update": ProjectRole.EDITOR,
        "partial_update": ProjectRole.EDITOR,
        "rerun": ProjectRole.EDITOR,
        "destroy": ProjectRole.MAINTAINER,
        "restore": ProjectRole.MAINTAINER,
    }
    filterset_class = ExperimentFilterSet
    ordering_fields = ["id", "name", "status", "created_at", "updated_at", "started_at", "finished_at"]
    ordering = ["id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = Experiment.objects.for_display()
        if self.detail:
            # Among all rows, so that an experiment the caller may not see reaches HasExperimentRole (403), not a 404.
            return queryset.with_access(self.request.user)
        return queryset.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = services.experiment_create(owner=request.user, **serializer.validated_data)
        location = reverse("experiment-detail", args=[experiment.pk], request=request)
        return Response(
            self.get_serializer(experiment).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def update(self, request, *args, **kwargs):
        experiment = self.get_object()
        serializer = self.get_serializer(experiment, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.experiment_update(experiment=experiment, **serializer.validated_data)
        return Response(self.get_serializer(experiment).data)

    def perform_destroy(self, instance):
        services.experiment_delete(experiment=instance)

    @extend_schema(
        summary="Re-run an experiment",
        description="Moves a completed, failed or cancelled experiment back to running: a new `started_at`, and its "
        "`finished_at` and results cleared. Any other status answers 400.",
        request=None,
        responses={200: ExperimentSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rerun")
    def rerun(self, request, pk=None):
        experiment = services.experiment_rerun(experiment=self.get_object())
        return Response(self.get_serializer(experiment).data)

    @extend_schema(
        summary="Restore an experiment deleted by a tracking client",
        description="MLflow's client deletes a run softly (`lifecycle_stage` becomes `deleted`); this makes it active "
        "again. Maintainers and up.",
        request=None,
        responses={200: ExperimentSerializer, 403: NOT_YOURS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request, pk=None):
        experiment = services.experiment_restore(experiment=self.get_object())
        return Response(self.get_serializer(experiment).data)
