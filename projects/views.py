from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import User
from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment
from experiments.serializers import ExperimentSerializer
from experiments.views import ExperimentViewSet
from projects import services
from projects.filters import ProjectFilterSet
from projects.models import Project, ProjectMembership, ProjectRole
from projects.permissions import HasProjectRole
from projects.serializers import (
    MembershipCreateSerializer,
    MembershipSerializer,
    ProjectSerializer,
    TransferSerializer,
)
from registry.throttles import LOOKUP_THROTTLES


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
    permission_classes = [IsAuthenticated, HasProjectRole]
    required_roles = {
        "retrieve": ProjectRole.VIEWER,
        "experiments": ProjectRole.VIEWER,
        "update": ProjectRole.MAINTAINER,
        "partial_update": ProjectRole.MAINTAINER,
        "destroy": ProjectRole.OWNER,
        "transfer": ProjectRole.OWNER,
        "restore": ProjectRole.MAINTAINER,
    }
    filterset_class = ProjectFilterSet
    lookup_value_regex = "[0-9]+"
    list_actions = {"list", "experiments"}
    ordering_fields = ["name", "created_at", "updated_at", "expiration_date"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if self.action == "experiments":
            # The project's experiments that the caller may see: an experiment of someone else's never shows here.
            experiments = Experiment.objects.visible_to(self.request.user)
            return experiments.filter(project_id=self.kwargs.get("pk")).for_display()
        projects = Project.objects.select_related("owner").with_experiment_count()
        if self.action == "list":
            return projects.visible_to(self.request.user)
        # Detail routes look among all rows, so that a project the caller may not see reaches HasProjectRole (403).
        return projects.with_role(self.request.user)

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
        return Response(self.get_serializer(self.get_object()).data)

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
        self.check_object_permissions(request, get_object_or_404(Project.objects.with_role(request.user), pk=pk))
        experiments = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(experiments)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Restore a project deleted by a tracking client",
        description="MLflow's client deletes an experiment softly (`lifecycle_stage` becomes `deleted`, and so do its "
        "experiments'); this makes the project and all its experiments active again. Maintainers and up.",
        request=None,
        responses={200: ProjectSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        services.project_restore(project=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Give the project to another user",
        description="Only the owner. The previous owner stays on as a maintainer.",
        request=TransferSerializer,
        responses={200: ProjectSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=TransferSerializer, throttle_classes=LOOKUP_THROTTLES)
    def transfer(self, request, pk=None):
        project = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.project_transfer(project=project, actor=request.user, new_owner=serializer.validated_data["user"])
        # Read back without get_object(): the caller is now a maintainer, below the owner role this action requires, so
        # its permission check would answer 403 for a transfer that has just succeeded.
        project = self.get_queryset().get(pk=project.pk)
        return Response(ProjectSerializer(project, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="List a project's members (viewer and up)"),
    retrieve=extend_schema(summary="Read a project member (viewer and up)"),
    create=extend_schema(
        summary="Add a member (maintainer and up)",
        description="`user` is an id, a username or an e-mail. A role above your own answers 400.",
        request=MembershipCreateSerializer,
        responses={201: MembershipSerializer},
    ),
    partial_update=extend_schema(summary="Change a member's role or expiry (maintainer and up, not your own)"),
    destroy=extend_schema(summary="Remove a member (maintainer and up), or leave the project yourself"),
)
class ProjectMembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A project's members, addressed by user id. Who may do what is checked on the project, then by the services."""

    serializer_class = MembershipSerializer
    permission_classes = [IsAuthenticated, HasProjectRole]
    # Viewers may read; writes need maintainer, except that members may remove themselves (the services decide).
    required_roles = {
        "list": ProjectRole.VIEWER,
        "retrieve": ProjectRole.VIEWER,
        "create": ProjectRole.MAINTAINER,
        "partial_update": ProjectRole.MAINTAINER,
        "destroy": ProjectRole.VIEWER,
    }
    http_method_names = ["get", "post", "patch", "delete", "head"]
    lookup_field = "user_id"
    lookup_url_kwarg = "user_id"
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "role"]
    ordering = ["created_at"]

    @cached_property
    def project(self) -> Project:
        project = get_object_or_404(Project.objects.with_role(self.request.user), pk=self.kwargs.get("project_pk"))
        # Leaving needs no role: a member whose membership has expired may still remove it.
        leaving = self.action == "destroy" and self.kwargs.get("user_id") == str(self.request.user.pk)
        if not leaving:
            self.check_object_permissions(self.request, project)
        return project

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A method this route does not answer (PUT, or DELETE on the list) is a 405 for everyone: without this, the role
        # check below, which finds no required role for it, would answer 403 first.
        if request.method.lower() not in self.http_method_names or self.action is None:
            raise MethodNotAllowed(request.method)
        self.project  # noqa: B018  (the project's existence and the caller's role are checked before anything else)

    def get_queryset(self):
        return ProjectMembership.objects.filter(project_id=self.kwargs.get("project_pk")).select_related(
            "user", "added_by"
        )

    def get_serializer_class(self):
        return MembershipCreateSerializer if self.action == "create" else MembershipSerializer

    def get_throttles(self):
        # Naming a user by e-mail would otherwise tell anyone, at any speed, which addresses have an account.
        return [throttle() for throttle in LOOKUP_THROTTLES] if self.action == "create" else super().get_throttles()

    def get_object(self):
        # The caller's access was checked on the project; the membership itself needs no second check. The user is
        # matched through their own primary key, whose lookup answers "no such row" for an id too large for the
        # database; the foreign key's `user_id=` sends it on, and SQLite fails with an OverflowError (a 500).
        users = User.objects.filter(pk=self.kwargs["user_id"])
        return get_object_or_404(self.get_queryset(), user__in=users)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(project=self.project, actor=request.user, **serializer.validated_data)
        location = reverse("project-member-detail", args=[self.project.pk, membership.user_id], request=request)
        data = MembershipSerializer(membership, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})

    def update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = self.get_serializer(membership, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.membership_change(membership=membership, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(membership).data)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, actor=self.request.user)
