"""What ViewSets of a project's parts build on, here and in other apps: routes under /projects/{project_pk}/."""

from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from common.access import HasRole
from common.viewsets import ParentScopedMixin
from projects.access import PROJECT_ACCESS
from projects.models import Project


class ProjectScopedMixin(ParentScopedMixin):
    """Routes under /projects/{project_pk}/ whose access is the caller's role in that project (the ViewSet's `access`
    table), checked before anything else (ParentScopedMixin)."""

    parent_kwarg = "project_pk"

    def get_parent_queryset(self):
        return Project.objects.with_role(self.request.user)

    @property
    def project(self) -> Project:
        return self.parent


class ProjectPartListViewSet(ProjectScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list of what belongs to one project, read by whoever may read the project: someone who may not answers 403,
    a missing project 404. A subclass names its serializer and queryset."""

    permission_classes = [IsAuthenticated, HasRole]
    access = PROJECT_ACCESS

    def access_operation(self, operation: str) -> str:
        return "retrieve"
