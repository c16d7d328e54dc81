"""The JWT pair of a password login: issuing, rotating, checking and revoking access and refresh tokens."""

from django.contrib.auth.models import update_last_login
from django.db import transaction
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts.authentication import JWTAuthentication
from accounts.models import User


def user_revoke_tokens(*, user: User) -> None:
    """Blacklist every refresh token the user holds; access tokens die with the password digest they carry."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in pending], ignore_conflicts=True)


def _token_pair(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    return {
        "access": access,
        "refresh": str(refresh),
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def token_obtain(*, user: User) -> dict:
    """Issue an access and a refresh token to a user who has just proved their password."""
    update_last_login(None, user)
    return _token_pair(user=user)


def _refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc


def _refresh_token_user(token: RefreshToken) -> User:
    """The account a refresh token speaks for, refused as an access token would be: gone, inactive, or its password
    changed since the token was issued."""
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise InvalidToken("No active account found for the given token.")
    if token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken("The user's password has been changed.")
    return user


def token_verify(*, token: str) -> None:
    """Raise InvalidToken (401) for any token the service would refuse where it is used.

    An access token is checked as authentication checks it (signature, expiry, account active, password unchanged);
    a refresh token as the refresh route checks it, the blacklist included.
    """
    try:
        token_type = UntypedToken(token).get(jwt_settings.TOKEN_TYPE_CLAIM)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc
    if token_type == RefreshToken.token_type:
        _refresh_token_user(_refresh_token(token))
    else:
        authentication = JWTAuthentication()
        authentication.get_user(authentication.get_validated_token(token))


def token_rotate(*, refresh: str) -> dict:
    """Trade a refresh token for a new pair; the old one is blacklisted, and only one of concurrent uses wins."""
    token = _refresh_token(refresh)
    user = _refresh_token_user(token)
    with transaction.atomic():
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=token[jwt_settings.JTI_CLAIM],
            defaults={"user": user, "token": refresh, "expires_at": datetime_from_epoch(token["exp"])},
        )
        # The unique row in BlacklistedToken decides the race: whoever inserts it rotates, the others see 401.
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidToken("Token is blacklisted")
    return _token_pair(user=user)


def token_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token (log out)."""
    _refresh_token(refresh).blacklist()
