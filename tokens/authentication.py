"""Authentication with a personal access token: `Authorization: Bearer reg_pat_...`, or HTTP Basic with the username
(or e-mail) as user and the token as password, which is what MLflow's client sends.

Both classes sit before simplejwt's JWTAuthentication and take only what starts with the token prefix, so a JWT goes on
to JWTAuthentication untouched, and a personal access token never reaches it (it would answer 401 for one).
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, BasicAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from accounts.models import User
from tokens import services
from tokens.models import TOKEN_PREFIX, PersonalAccessToken, token_digest

INVALID = "Invalid personal access token."
BASIC_NEEDS_TOKEN = (
    "HTTP Basic takes a personal access token as the password, never the account password. "
    "Create one at POST /auth/tokens."
)


def valid_token(raw: str) -> PersonalAccessToken:
    """The live token `raw` is the secret of, or AuthenticationFailed (401): unknown, revoked, expired, or its user
    deactivated (a deleted user's tokens are deleted with them)."""
    token = PersonalAccessToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None:
        raise exceptions.AuthenticationFailed(INVALID, code="token_not_valid")
    if token.is_expired:
        raise exceptions.AuthenticationFailed("The personal access token has expired.", code="token_expired")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("User inactive or deleted.", code="user_inactive")
    return token


def declared_writes(request) -> bool | None:
    """What the request's view declares in `writes`: whether it writes whatever its method (MLflow's endpoints, whose
    searches are POSTs that only read), or None when it declares nothing and its method tells."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return getattr(view, "writes", None)


def admit(request, token: PersonalAccessToken) -> tuple:
    """Record the token's use and check its scope against what the request does; return (user, token).

    A request writes if its view declares so (`writes`, see declared_writes), else if its method is not a safe one.
    The scope is enforced here, once for every endpoint, because every request a token authenticates passes through
    this function, while permission classes are chosen view by view and one of them could forget it.
    """
    services.token_record_use(token=token)
    if token.allows_writes:
        return token.user, token
    writes = declared_writes(request)
    if writes is None and request.method not in SAFE_METHODS:
        raise exceptions.PermissionDenied(
            f"This personal access token has the {token.scope} scope, which allows only GET, HEAD and OPTIONS.",
            code="insufficient_scope",
        )
    if writes:
        raise exceptions.PermissionDenied(
            f"This personal access token has the {token.scope} scope, which allows only reads.",
            code="insufficient_scope",
        )
    return token.user, token


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer reg_pat_...`; any other bearer token is left to the next class (JWT)."""

    keyword = b"bearer"
    www_authenticate_realm = "api"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword or not parts[1].startswith(TOKEN_PREFIX.encode()):
            return None
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(INVALID, code="token_not_valid") from exc
        return admit(request, valid_token(raw))

    def authenticate_header(self, request):
        # The first authentication class names the challenge of every 401: Bearer, as JWTAuthentication does.
        return f'Bearer realm="{self.www_authenticate_realm}"'


class PersonalAccessTokenBasicAuthentication(BasicAuthentication):
    """HTTP Basic with a username or e-mail and a personal access token as the password.

    An account password is refused without being checked: hashing passwords on every request would be slow and would
    open a brute-force door beside the throttled login.
    """

    def authenticate_credentials(self, userid, password, request=None):
        if not password.startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed(BASIC_NEEDS_TOKEN, code="password_not_accepted")
        token = valid_token(password)
        # The user part names the token's owner as a login does: a username, or an e-mail when it holds an @.
        if not User.objects.identified_by(userid).filter(pk=token.user_id).exists():
            raise exceptions.AuthenticationFailed("Invalid username or personal access token.", code="token_not_valid")
        return admit(request, token)
