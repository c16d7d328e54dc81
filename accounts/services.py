import logging

from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts.models import User
from registry.db import set_fields, validated_save
from registry.text import one_line

logger = logging.getLogger(__name__)

USER_EDITABLE_FIELDS = ("username", "email", "first_name", "last_name", "age")


def _validate_password(*, password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _send_welcome_email(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    try:
        send_mail(
            subject="Welcome to Registry",
            message=f"Hello {one_line(user.get_short_name() or user.username)},\n\nyour Registry account is ready.",
            from_email=None,
            recipient_list=[user.email],
        )
    except Exception:
        # The account exists whatever the mail server does; a lost welcome is logged, never a failed registration.
        logger.exception("Could not send the welcome e-mail to user %s", user_id)


def user_create(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    age: int | None = None,
) -> User:
    """Create an account (password checked by Django's validators) and send a welcome e-mail once committed."""
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, age=age)
    _validate_password(password=password, user=user, field="password")
    user.set_password(password)
    with transaction.atomic():
        validated_save(user)
        transaction.on_commit(lambda: _send_welcome_email(user_id=user.pk))
    return user


def user_update(*, user: User, **fields) -> User:
    """Change a user's own profile fields; anything else (staff, active, password) is not changed here."""
    return validated_save(set_fields(user, fields, allowed=USER_EDITABLE_FIELDS))


def user_delete(*, user: User) -> None:
    """Delete a user; what they own goes with them, and their tokens stop working because the user is gone."""
    user.delete()


def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change a password after checking the current one, and revoke every token issued before."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    _validate_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password", "updated_at"])
        user_revoke_tokens(user=user)


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
