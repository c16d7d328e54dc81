from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment
from experiments.serializers import ExperimentSerializer
from experiments.views import ExperimentViewSet
from projects import services
from projects.filters import ProjectFilterSet
from projects.models import Project
from projects.permissions import IsProjectOwner
from projects.serializers import ProjectSerializer


@extend_schema_view(
    list=extend_schema(summary="List the projects you may see (newest first)"),
    create=extend_schema(summary="Create a project"),
    retrieve=extend_schema(summary="Read a project"),
    update=extend_schema(summary="Replace a project"),
    partial_update=extend_schema(summary="Change a project"),
    destroy=extend_schema(summary="Delete a project (its experiments stay, unlinked)"),
)
class ProjectViewSet(viewsets.ModelViewSet):
    """Projects: lists show what the caller may see; someone else's project answers 403 on every detail route."""

    serializer_class = ProjectSerializer
    permission_classes = [IsAuthenticated, IsProjectOwner]
    filterset_class = ProjectFilterSet
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["name", "created_at", "updated_at", "expiration_date"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if self.action == "experiments":
            # The project's experiments that the caller may see: an experiment of someone else's never shows here.
            experiments = Experiment.objects.visible_to(self.request.user)
            return experiments.filter(project_id=self.kwargs.get("pk")).select_related("owner")
        projects = Project.objects.select_related("owner").with_experiment_count()
        if self.action == "list":
            return projects.visible_to(self.request.user)
        # Detail routes look among all rows, so that another user's project reaches the permission check (403).
        return projects

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(owner=request.user, **serializer.validated_data)
        project = self.get_queryset().get(pk=project.pk)
        location = reverse("project-detail", args=[project.pk], request=request)
        return Response(
            self.get_serializer(project).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def update(self, request, *args, **kwargs):
        project = self.get_object()
        serializer = self.get_serializer(project, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.project_update(project=project, **serializer.validated_data)
        return Response(self.get_serializer(project).data)

    def perform_destroy(self, instance):
        services.project_delete(project=instance)

    @extend_schema(summary="List a project's experiments", responses=ExperimentSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=ExperimentSerializer,
        filterset_class=ExperimentFilterSet,
        ordering_fields=ExperimentViewSet.ordering_fields,
        ordering=ExperimentViewSet.ordering,
    )
    def experiments(self, request, pk=None):
        # This action's queryset holds experiments, so the project is looked up and checked here.
        self.check_object_permissions(request, get_object_or_404(Project.objects.all(), pk=pk))
        experiments = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(experiments)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
