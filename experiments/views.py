from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.access import HasRole
from common.filters import ListFilterBackend, filtering_asked_for
from common.pagination import HeaderLimitOffsetPagination
from common.viewsets import ServiceModelMixin
from experiments import selectors, services
from experiments.access import EXPERIMENT_ACCESS
from experiments.filters import ExperimentFilterSet, ExperimentOrderingFilter
from experiments.models import Experiment
from experiments.serializers import ExperimentSerializer, MetricPointSerializer
from projects.viewsets import ProjectPartListViewSet
from tracking import services as tracking
from tracking.models import METRIC_KEY_MAX_LENGTH, MetricPoint
from tracking.services import KEY_PATTERN, KEY_RULE, POINTS_MAX_COUNT, Point

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
class ExperimentViewSet(ServiceModelMixin, viewsets.ModelViewSet):
    """Experiments: owners track their own, project members act by role; no access answers 403, a missing id 404."""

    serializer_class = ExperimentSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = EXPERIMENT_ACCESS
    filterset_class = ExperimentFilterSet
    filter_backends = [ListFilterBackend, ExperimentOrderingFilter]
    ordering_fields = ["id", "name", "status", "created_at", "updated_at", "started_at", "finished_at"]
    ordering = ["id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        # What the list's filters narrow (experiments.selectors reads the rows); detail reads are get_object's.
        return Experiment.objects.for_display().where_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        rows = selectors.experiment_list(
            user=request.user, narrow=self.filter_queryset, plain=not filtering_asked_for(request, self)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self):
        pk = int(self.kwargs[self.lookup_url_kwarg or "pk"])
        experiment = selectors.experiment_get(user=self.request.user, pk=pk, for_write=self.action != "retrieve")
        if experiment is None:
            raise Http404
        self.check_object_permissions(self.request, experiment)
        return experiment

    def read_back(self, instance):
        # The services return the saved experiment whole; reading it again would only repeat its queries.
        return instance

    def service_create(self, data):
        return services.experiment_create(owner=self.request.user, **data)

    def service_update(self, instance, data):
        return services.experiment_update(experiment=instance, actor=self.request.user, **data)

    def service_destroy(self, instance):
        services.experiment_delete(experiment=instance, actor=self.request.user)

    @extend_schema(
        summary="Re-run an experiment",
        description="Moves a completed, failed or cancelled experiment back to running: a new `started_at`, and its "
        "`finished_at` and results cleared. Any other status answers 400.",
        request=None,
        responses={200: ExperimentSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rerun")
    def rerun(self, request, pk=None):
        experiment = services.experiment_rerun(experiment=self.get_object(), actor=request.user)
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
        experiment = services.experiment_restore(experiment=self.get_object(), actor=request.user)
        return Response(self.get_serializer(experiment).data)


@extend_schema_view(list=extend_schema(summary="List a project's experiments"))
class ProjectExperimentViewSet(ProjectPartListViewSet):
    """The experiments of one project that the caller may see: someone else's experiment never shows here. The
    project answers 403 to a caller who may not read it, 404 when it does not exist."""

    serializer_class = ExperimentSerializer
    filterset_class = ExperimentFilterSet
    filter_backends = ExperimentViewSet.filter_backends
    ordering_fields = ExperimentViewSet.ordering_fields
    ordering = ExperimentViewSet.ordering

    def get_queryset(self):
        experiments = Experiment.objects.where_visible_to(self.request.user)
        return experiments.filter(project_id=self.kwargs.get("project_pk")).for_display()


class MetricHistoryPagination(HeaderLimitOffsetPagination):
    """Our paging, with pages of up to 10,000 points: a history is read whole more often than not."""

    default_limit = 1000
    max_limit = 10_000


@extend_schema_view(
    list=extend_schema(
        summary="Read the history of one metric of an experiment, in step order",
        parameters=[
            OpenApiParameter(
                "key",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": METRIC_KEY_MAX_LENGTH,
                    "pattern": KEY_PATTERN.pattern,
                },
                required=True,
                description=f"The metric's key: {KEY_RULE}",
            ),
        ],
        responses={200: MetricPointSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Record points of an experiment's metrics",
        description=f"A list of 1 to {POINTS_MAX_COUNT} points. A point identical to one already stored is stored "
        "once. Each metric's latest value (the experiment's `results`) becomes its point with the greatest "
        "(step, timestamp, value). Editors and up.",
        request=MetricPointSerializer(many=True),
        examples=[
            # One point; the schema lists it, as the body is a list.
            OpenApiExample(
                "A point of the loss",
                value={"key": "loss", "value": 0.412, "step": 1, "timestamp": 1764720060000},
                request_only=True,
            )
        ],
        responses={201: MetricPointSerializer(many=True), 403: OpenApiResponse(description="Not an editor.")},
    ),
)
class MetricViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The metric history of an experiment: viewers read it, editors and up record points."""

    serializer_class = MetricPointSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = EXPERIMENT_ACCESS
    pagination_class = MetricHistoryPagination
    filter_backends = []

    def access_operation(self, operation: str) -> str:
        # Reading the history is reading the experiment; recording points is what a tracking client's logging is.
        return {"list": "retrieve", "create": "log"}.get(operation, "")

    def get_experiment(self) -> Experiment:
        # Among all rows, so that an experiment the caller may not see answers 403 and a missing one 404.
        queryset = Experiment.objects.with_access(self.request.user)
        experiment = get_object_or_404(queryset, pk=self.kwargs["experiment_pk"])
        self.check_object_permissions(self.request, experiment)
        return experiment

    def get_queryset(self):
        experiment = self.get_experiment()
        key = self.request.query_params.get("key")
        if not key:
            raise ValidationError({"key": [f"The metric's key is required: {KEY_RULE}"]})
        try:
            tracking.validate_key(key)
        except DjangoValidationError as exc:
            raise ValidationError({"key": exc.messages}) from exc
        return MetricPoint.objects.filter(experiment=experiment, key=key).order_by("step", "timestamp", "value")

    def list(self, request, *args, **kwargs):
        points = self.paginate_queryset(self.get_queryset())
        data = [{"key": p.key, "value": p.number, "step": p.step, "timestamp": p.timestamp} for p in points]
        return self.get_paginated_response(MetricPointSerializer(data, many=True).data)

    def create(self, request, *args, **kwargs):
        experiment = self.get_experiment()
        serializer = MetricPointSerializer(data=request.data, many=True, max_length=POINTS_MAX_COUNT, allow_empty=False)
        serializer.is_valid(raise_exception=True)
        now = tracking.now_ms()
        points = [
            Point(timestamp=now, **item) if "timestamp" not in item else Point(**item)
            for item in serializer.validated_data
        ]
        services.experiment_record_metrics(experiment=experiment, points=points)
        data = [{"key": p.key, "value": p.value, "step": p.step, "timestamp": p.timestamp} for p in points]
        return Response(MetricPointSerializer(data, many=True).data, status=status.HTTP_201_CREATED)
