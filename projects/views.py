from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import User
from common.access import HasRole
from common.throttles import LOOKUP_THROTTLES
from common.viewsets import ServiceModelMixin
from projects import services, sharing
from projects.access import INVITATION_ACCESS, MEMBERSHIP_ACCESS, PROJECT_ACCESS
from projects.filters import ProjectFilterSet
from projects.models import Project, ProjectInvitation, ProjectMembership
from projects.serializers import (
    InvitationSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    ProjectSerializer,
    TransferSerializer,
)
from projects.viewsets import ProjectScopedMixin


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
        summary="Offer the project to another user",
        description="Only the owner. The user named receives an invitation (by e-mail, and in `GET /invitations/`); "
        "nothing changes until they accept it, when they become the owner and the previous owner stays on as a "
        "maintainer. The answer is the pending invitation, whatever the recipient's own projects are.",
        request=TransferSerializer,
        responses={202: InvitationSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=TransferSerializer, throttle_classes=LOOKUP_THROTTLES)
    def transfer(self, request, pk=None):
        project = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = sharing.project_transfer_invite(
            project=project, actor=request.user, new_owner=serializer.validated_data["user"]
        )
        return invitation_response(invitation, request=request, context=self.get_serializer_context())


def invitation_response(invitation: ProjectInvitation, *, request, context) -> Response:
    """202: an invitation was sent and waits for its invitee; `Location` is where the project's maintainers see it."""
    invitation = ProjectInvitation.objects.select_related("project", "invitee", "invited_by").get(pk=invitation.pk)
    location = reverse(
        "project-invitation-detail", kwargs={"project_pk": invitation.project_id, "pk": invitation.pk}, request=request
    )
    return Response(
        InvitationSerializer(invitation, context=context).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": location},
    )


@extend_schema_view(
    list=extend_schema(summary="List a project's members (viewer and up)"),
    retrieve=extend_schema(summary="Read a project member (viewer and up)"),
    create=extend_schema(
        summary="Invite a member (maintainer and up)",
        description="`user` is an id, a username or an e-mail. The user receives an invitation (by e-mail, and in "
        "`GET /invitations/`) and becomes a member when they accept it; until then they have no access. A role above "
        "your own, someone already a member, or someone with a pending invitation answers 400.",
        request=MembershipCreateSerializer,
        responses={202: InvitationSerializer},
    ),
    partial_update=extend_schema(summary="Change a member's role or expiry (maintainer and up, not your own)"),
    destroy=extend_schema(summary="Remove a member (maintainer and up), or leave the project yourself"),
)
class ProjectMembershipViewSet(
    ProjectScopedMixin,
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

    def access_operation(self, operation: str) -> str:
        if operation == "destroy" and self.kwargs.get("user_id") == str(self.request.user.pk):
            return "leave"
        return operation

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

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = sharing.membership_invite(project=self.project, actor=request.user, **serializer.validated_data)
        return invitation_response(invitation, request=request, context=self.get_serializer_context())

    def service_update(self, instance, data):
        return sharing.membership_change(membership=instance, actor=self.request.user, **data)

    def service_destroy(self, instance):
        sharing.membership_remove(membership=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List a project's pending invitations (maintainer and up)"),
    retrieve=extend_schema(summary="Read a project's pending invitation (maintainer and up)"),
    destroy=extend_schema(
        summary="Cancel a pending invitation (maintainer and up; a transfer, the owner)",
    ),
)
class ProjectInvitationViewSet(
    ProjectScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A project's pending invitations (memberships and transfers offered, not yet answered), for those who may invite
    to it (INVITATION_ACCESS, checked on the project)."""

    serializer_class = InvitationSerializer
    permission_classes = [IsAuthenticated, HasRole]
    access = INVITATION_ACCESS
    http_method_names = ["get", "delete", "head"]
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return (
            ProjectInvitation.objects.pending()
            .filter(project_id=self.kwargs.get("project_pk"))
            .select_related("project", "invitee", "invited_by")
        )

    def get_object(self):
        # The caller's access was checked on the project; the invitation itself needs no second check.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def perform_destroy(self, instance):
        sharing.invitation_cancel(invitation=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List your pending invitations (newest first)"),
    retrieve=extend_schema(summary="Read one of your invitations"),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own pending invitations, to accept or decline. An invitation is private to its invitee (and the
    project's maintainers, under /projects/{id}/invitations/): anyone else's answers 404, as a missing one does."""

    serializer_class = InvitationSerializer
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        invitations = ProjectInvitation.objects.addressed_to(self.request.user).select_related(
            "project", "invitee", "invited_by"
        )
        # The list shows what may still be accepted; one past its deadline may still be read and declined.
        return invitations.open() if self.action == "list" else invitations.pending()

    @extend_schema(
        summary="Accept an invitation",
        description="Grants what it offers, checked again now: the membership, or the project itself (its owner "
        "staying on as a maintainer). 400 if it has expired, if whoever invited you may no longer grant it, or, for a "
        "transfer, if you already own a project of that name (rename it first). The answer is the project.",
        request=None,
        responses={200: ProjectSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        project = sharing.invitation_accept(invitation=self.get_object(), actor=request.user)
        project = (
            Project.objects.select_related("owner").with_experiment_count().with_role(request.user).get(pk=project.pk)
        )
        return Response(ProjectSerializer(project, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Decline an invitation",
        description="Nothing is granted, and the invitation can no longer be accepted; one past its deadline may be "
        "declined too.",
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        sharing.invitation_decline(invitation=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
