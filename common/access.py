"""Who may do what: each resource's access table, and the one permission class that reads it for every ViewSet.

A resource (projects, experiments) declares one `Access` table beside its services: operation to minimum role, the
operations named as the ViewSets' actions. The services that guard an operation check the acting user against that
table, and `HasRole` checks the same table before a ViewSet acts, so that changing one role in one table changes the
API, the admin and the services together.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

# An operation that any caller who can address the object may do (leaving a project, say).
ANYONE = None


class Access:
    """One resource's access table: `minimums` maps each operation to the least role that may do it.

    `rank` orders the roles; `lookup(user, obj)` finds a user's role on one object (None: no access) with the one role
    lookup of the resource's QuerySet, whose annotation is named `annotation`. A role found once for a user and an
    object is kept on the object, so that the permission class and the service that follows it ask the database once.
    """

    def __init__(
        self,
        minimums: Mapping[str, str | None],
        *,
        rank: Mapping[str, int],
        lookup: Callable[[Any, Any], str | None],
        annotation: str,
        refusal: str,
    ):
        self.minimums = dict(minimums)
        self.rank = rank
        self.lookup = lookup
        self.annotation = annotation
        self.refusal = refusal

    def __getitem__(self, operation: str) -> str | None:
        return self.minimums[operation]

    def __contains__(self, operation: str) -> bool:
        return operation in self.minimums

    def reaches(self, role: str | None, minimum: str | None) -> bool:
        """Whether `role` (None: no access) is at least `minimum` (ANYONE: always)."""
        if minimum is ANYONE:
            return True
        return role is not None and self.rank[role] >= self.rank[minimum]

    def allows(self, role: str | None, operation: str) -> bool:
        return self.reaches(role, self.minimums[operation])

    def roles_for(self, operation: str) -> list[str]:
        """The roles that may do `operation`, for queries that select the objects a user may act on."""
        return [role for role in self.rank if self.allows(role, operation)]

    def remember(self, user, obj, role: str | None) -> None:
        """Record `user`'s role on `obj`, read by a query that annotated it, so that no check asks again."""
        obj.__dict__.setdefault("_access_roles", {})[user.pk] = role

    def role(self, user, obj) -> str | None:
        roles = obj.__dict__.setdefault("_access_roles", {})
        if user.pk not in roles:
            roles[user.pk] = self.lookup(user, obj)
        return roles[user.pk]

    def require(self, user, obj, operation: str) -> str | None:
        """`user`'s role on `obj`; PermissionDenied (a 403) unless it allows `operation`."""
        role = self.role(user, obj)
        if not self.allows(role, operation):
            raise PermissionDenied(self.refusal)
        return role


# A replacement and a change of some fields are one operation to an access table.
OPERATION_OF_ACTION = {"partial_update": "update"}


class HasRole(BasePermission):
    """The caller's role on the object must reach what the ViewSet's access table (`access`) asks for the action.

    The ViewSet reads detail objects annotated with the caller's role (the table's `annotation`). The operation is the
    action's (OPERATION_OF_ACTION); a ViewSet whose actions mean other operations maps it with
    `access_operation(operation)`.
    """

    def has_object_permission(self, request, view, obj) -> bool:
        table: Access = view.access
        operation = OPERATION_OF_ACTION.get(view.action, view.action)
        if hasattr(view, "access_operation"):
            operation = view.access_operation(operation)
        # An action the table does not name (OPTIONS probing for writes, say) is refused: closed by default.
        if operation not in table:
            return False
        table.remember(request.user, obj, getattr(obj, table.annotation))
        return table.allows(table.role(request.user, obj), operation)
