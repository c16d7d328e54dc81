from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class JWTScheme(OpenApiAuthenticationExtension):
    """Describe JWT authentication twice: a pasted bearer token, and the OAuth2 password flow against /auth/token.

    The second makes the Swagger UI's Authorize button log in with a username and password.
    """

    target_class = "rest_framework_simplejwt.authentication.JWTAuthentication"
    name = ["bearerAuth", "passwordFlow"]
    priority = 1

    def get_security_definition(self, auto_schema):
        return [
            build_bearer_security_scheme_object(
                header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
            ),
            {"type": "oauth2", "flows": {"password": {"tokenUrl": "/auth/token", "scopes": {}}}},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"passwordFlow": []}]
