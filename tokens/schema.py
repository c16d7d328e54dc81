"""OpenAPI descriptions of the personal access token schemes, beside the JWT ones (see accounts.schema)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from tokens.permissions import IsNotPersonalAccessToken


def _refuses_tokens(auto_schema) -> bool:
    """Whether the operation refuses every personal access token (creating tokens, the password, account deletion),
    so that the schema does not offer the token schemes there."""
    return any(isinstance(permission, IsNotPersonalAccessToken) for permission in auto_schema.view.get_permissions())


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer reg_pat_...`."""

    target_class = "tokens.authentication.PersonalAccessTokenAuthentication"
    name = "personalAccessToken"
    priority = 1

    def get_security_definition(self, auto_schema):
        definition = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="reg_pat_"
        )
        definition["description"] = (
            "A personal access token (`reg_pat_...`) from POST /auth/tokens. A `read` token may use GET, HEAD and "
            "OPTIONS only."
        )
        return definition

    def get_security_requirement(self, auto_schema):
        return None if _refuses_tokens(auto_schema) else {self.name: []}


class PersonalAccessTokenBasicScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with a username or e-mail and a personal access token as the password."""

    target_class = "tokens.authentication.PersonalAccessTokenBasicAuthentication"
    name = "personalAccessTokenBasic"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Username (or e-mail) and a personal access token as the password, as MLflow's client "
            "sends them. The account password is refused here.",
        }

    def get_security_requirement(self, auto_schema):
        return None if _refuses_tokens(auto_schema) else {self.name: []}
