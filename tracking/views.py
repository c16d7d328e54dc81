from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment
from registry.access import HasRole
from registry.pagination import HeaderLimitOffsetPagination
from tracking import services
from tracking.models import METRIC_KEY_MAX_LENGTH, MetricPoint
from tracking.serializers import MetricPointSerializer
from tracking.services import KEY_PATTERN, KEY_RULE, POINTS_MAX_COUNT, Point


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
            services.validate_key(key)
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
        now = services.now_ms()
        points = [
            Point(timestamp=now, **item) if "timestamp" not in item else Point(**item)
            for item in serializer.validated_data
        ]
        services.metrics_record(experiment=experiment, points=points)
        data = [{"key": p.key, "value": p.value, "step": p.step, "timestamp": p.timestamp} for p in points]
        return Response(MetricPointSerializer(data, many=True).data, status=status.HTTP_201_CREATED)
