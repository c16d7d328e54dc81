from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import may_manage


class IsRegistrationOpenOrStaff(BasePermission):
    """Anyone may register while REGISTRATION_OPEN is set; otherwise only staff may create users."""

    message = "Registration is closed."

    def has_permission(self, request, view) -> bool:
        return settings.REGISTRATION_OPEN or bool(request.user and request.user.is_staff)


class IsSelfOrStaff(BasePermission):
    """Any authenticated user may read a user; only that user, or staff who manage the account (accounts.access: a
    superuser alone for staff and superusers), may change or delete them."""

    message = "Only the user, or staff (a superuser for staff and superuser accounts), may change this account."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or may_manage(request.user, obj)
