from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from common.schema import UnlistedSchemeMixin


def bearer_scheme() -> dict:
    """The bearer scheme, which takes a JWT access token or a personal access token alike."""
    definition = build_bearer_security_scheme_object(header_name="HTTP_AUTHORIZATION", token_prefix="Bearer")
    definition["description"] = (
        "An access token from POST /auth/token, or a personal access token (`reg_pat_...`) from POST /auth/tokens. "
        "A `read` personal access token may use GET, HEAD and OPTIONS only, and no personal access token may create "
        "tokens, change the password or delete an account. Scripts may also send HTTP Basic with their username (or "
        "e-mail) and a personal access token as the password, as MLflow's client does; never the account password."
    )
    return definition


class JWTScheme(OpenApiAuthenticationExtension):
    """Describe JWT authentication twice: a pasted bearer token, and the OAuth2 password flow against /auth/token.

    The second makes the Swagger UI's Authorize button log in with a username and password.
    """

    target_class = "accounts.authentication.JWTAuthentication"
    name = ["token", "login"]
    priority = 1

    def get_security_definition(self, auto_schema):
        return [
            bearer_scheme(),
            {
                "type": "oauth2",
                "description": "Log in with your username (or e-mail) and password.",
                "flows": {"password": {"tokenUrl": "/auth/token", "scopes": {}}},
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"login": []}, {"token": []}]


class SessionScheme(UnlistedSchemeMixin, OpenApiAuthenticationExtension):
    """The session (the admin's and the browsable API's login) works in the docs without being offered: the browser
    sends its cookie. Offering it as a scheme would only add a third, unusable choice to the Authorize dialog."""

    target_class = "rest_framework.authentication.SessionAuthentication"


def email_may_be_left_out(result, generator, request, public):
    """A drf-spectacular postprocessing hook: a user's e-mail (and the new one pending) is shown only to that user and
    to staff, so the User schema does not require them."""
    user = result.get("components", {}).get("schemas", {}).get("User", {})
    for name in ("email", "pending_email"):
        if name in user.get("required", []):
            user["required"].remove(name)
    return result
