"""OpenAPI descriptions of the personal access token schemes.

A personal access token is a bearer token like a JWT access token, so both are one scheme, `token` (see
accounts.schema): the docs' Authorize dialog then offers one field for either, beside the password flow. HTTP Basic
with a token as the password, which MLflow's client sends, is described there too rather than offered as a scheme of its
own, where a newcomer would type their account password into it.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from common.schema import UnlistedSchemeMixin


class PersonalAccessTokenScheme(UnlistedSchemeMixin, OpenApiAuthenticationExtension):
    """`Authorization: Bearer reg_pat_...`: the bearer scheme of JWT access tokens (accounts.schema), which names
    it on every operation; this class adds no scheme of its own."""

    target_class = "tokens.authentication.PersonalAccessTokenAuthentication"


class PersonalAccessTokenBasicScheme(PersonalAccessTokenScheme):
    """HTTP Basic with a username or e-mail and a personal access token: described in the bearer scheme."""

    target_class = "tokens.authentication.PersonalAccessTokenBasicAuthentication"
