from rest_framework.permissions import BasePermission

from tokens.models import PersonalAccessToken


def is_personal_access_token(request) -> bool:
    """Whether the request was authenticated with a personal access token (rather than a JWT or a session)."""
    return isinstance(request.auth, PersonalAccessToken)


class IsNotPersonalAccessToken(BasePermission):
    """Only a password login (an access token or a session) may do this; no personal access token may, whatever its
    scope: creating tokens, changing the password, deleting an account."""

    message = "A personal access token cannot do this; log in with your password."

    def has_permission(self, request, view) -> bool:
        return not is_personal_access_token(request)
