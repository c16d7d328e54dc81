from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from projects import services
from projects.access import MEMBERSHIP_ACCESS, PROJECT_ACCESS
from projects.filters import ProjectFilterSet
from projects.models import Project, ProjectMembership
from projects.serializers import (
    MembershipCreateSerializer,
    MembershipSerializer,
    ProjectSerializer,
    TransferSerializer,
)
from registry.access import HasRole
from registry.throttles import LOOKUP_THROTTLES
from registry.viewsets import ServiceModelMixin


@extend_schema_view(
    list=extend_schema(summary="List the projects you may see (newest first)"),
    create=extend_schema(summary="Create a project"),
    retrieve=extend_schema(summary="Read a project"),
    update=extend_schema(summary="Replace a project"),
    partial_update=extend_schema(summary="Change a project"),
    destroy=extend_schema(summary="Delete a project (its experiments stay, unlinked)"),
)
class ProjectViewSet(ServiceModelMixin, viewsets.ModelViewSet):
    """Projects: lists show what the caller may see; someone else's project answers 403 on every detail route."""

    serializer_class = ProjectSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = PROJECT_ACCESS
    filterset_class = ProjectFilterSet
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["name", "created_at", "updated_at", "expiration_date"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        projects = Project.objects.select_related("owner").with_experiment_count()
        if self.action == "list":
            return projects.visible_to(self.request.user)
        # Detail routes look among all rows, so that a project the caller may not see reaches HasRole (403).
        return projects.with_role(self.request.user)

    def service_create(self, data):
        return services.project_create(owner=self.request.user, **data)

    def service_update(self, instance, data):
        return services.project_update(project=instance, actor=self.request.user, **data)

    def service_destroy(self, instance):
        services.project_delete(project=instance, actor=self.request.user)

    @extend_schema(
        summary="Restore a project deleted by a tracking client",
        description="MLflow's client deletes an experiment softly (`lifecycle_stage` becomes `deleted`, and so do its "
        "experiments'); this makes the project and all its experiments active again. Maintainers and up.",
        request=None,
        responses={200: ProjectSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        project = services.project_restore(project=self.get_object(), actor=request.user)
        return Response(self.get_serializer(self.read_back(project)).data)

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
        return Response(ProjectSerializer(self.read_back(project), context=self.get_serializer_context()).data)


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
    ServiceModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A project's members, addressed by user id. Who may do what is checked on the project (MEMBERSHIP_ACCESS), and
    the services check the rules that depend on the member (a role above the actor's, one's own membership)."""

    serializer_class = MembershipSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = MEMBERSHIP_ACCESS
    http_method_names = ["get", "post", "patch", "delete", "head"]
    lookup_field = "user_id"
    lookup_url_kwarg = "user_id"
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "role"]
    ordering = ["created_at"]

    @cached_property
    def project(self) -> Project:
        project = get_object_or_404(Project.objects.with_role(self.request.user), pk=self.kwargs.get("project_pk"))
        self.check_object_permissions(self.request, project)
        return project

    def access_operation(self, operation: str) -> str:
        if operation == "destroy" and self.kwargs.get("user_id") == str(self.request.user.pk):
            return "leave"
        return operation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A method this route does not answer (PUT, or DELETE on the list) is a 405 for everyone: without this, the role
        # check below, which finds no operation for it in the table, would answer 403 first.
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

    def get_read_serializer(self, instance):
        return MembershipSerializer(instance, context=self.get_serializer_context())

    def service_create(self, data):
        return services.membership_add(project=self.project, actor=self.request.user, **data)

    def service_update(self, instance, data):
        return services.membership_change(membership=instance, actor=self.request.user, **data)

    def service_destroy(self, instance):
        services.membership_remove(membership=instance, actor=self.request.user)
