from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import may_manage
from accounts.authentication import JWTAuthentication


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


class IsPasswordLogin(BasePermission):
    """Only a password login (an access token or a session) may do this; no personal access token may, whatever its
    scope: creating tokens, changing the password or the e-mail, deleting an account. Closed by default: a request
    authenticated in any other way is refused."""

    message = "A personal access token cannot do this; log in with your password."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.successful_authenticator, (JWTAuthentication, SessionAuthentication))
