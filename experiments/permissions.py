from rest_framework.permissions import BasePermission


class IsExperimentOwner(BasePermission):
    """Only an experiment's owner may read, change, re-run or delete it."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.owner_id == request.user.pk
