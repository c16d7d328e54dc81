from rest_framework.permissions import BasePermission


class IsProjectOwner(BasePermission):
    """Only a project's owner may read, change or delete it."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.owner_id == request.user.pk
