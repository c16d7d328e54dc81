from rest_framework.permissions import BasePermission

from projects.models import role_at_least


class HasExperimentRole(BasePermission):
    """The caller's access to the experiment (its owner, or their role in its project) must reach the role the
    ViewSet requires for the action (`required_roles`)."""

    def has_object_permission(self, request, view, obj) -> bool:
        # An action the ViewSet does not list (such as OPTIONS probing for writes) is refused.
        minimum = view.required_roles.get(view.action)
        return minimum is not None and role_at_least(obj.access_role, minimum)
