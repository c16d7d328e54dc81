import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from common.db import validated_save
from common.mail import mail_send_on_commit
from tokens.models import DEFAULT_LIFETIME_DAYS, TOKEN_PREFIX, PersonalAccessToken, TokenScope, token_digest

logger = logging.getLogger(__name__)

# 32 random bytes (256 bits), URL-safe base64: 43 characters after the prefix.
SECRET_BYTES = 32
# What is kept in clear to recognise a token by: the fixed prefix and the first 8 random characters (48 of 256 bits).
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# `last_used_at` is written at most once per this interval per token, never on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _created_notice(token: PersonalAccessToken) -> str:
    return (
        f"A personal access token named “{token.name}” ({token.token_prefix}…, {token.scope} scope, expiring "
        f"{token.expires_at:%Y-%m-%d %H:%M} UTC) was just created for your Registry account.\n\n"
        f"If this was not you, delete the token (DELETE /auth/tokens/{token.pk}, or ask an administrator) and "
        "change your password."
    )


def token_create(
    *, user: User, name: str, scope: str = TokenScope.WRITE, expires_in_days: int = DEFAULT_LIFETIME_DAYS
) -> tuple[PersonalAccessToken, str]:
    """Create a personal access token and return it with its secret, which is stored nowhere (only its digest is).

    The owner is told by e-mail once the token is committed, so that a stolen password cannot mint a silent one.
    """
    secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = timezone.now()
    token = PersonalAccessToken(
        user=user,
        name=name,
        scope=scope,
        token_prefix=secret[:DISPLAY_PREFIX_LENGTH],
        digest=token_digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    with transaction.atomic():
        validated_save(token)
        mail_send_on_commit(
            to=[user.email],
            subject=f"A personal access token was created: {token.name}",
            body=_created_notice(token),
        )
    return token, secret


def token_revoke(*, token: PersonalAccessToken) -> None:
    """Revoke a token: it is deleted, so the next request that carries it finds nothing and answers 401."""
    token.delete()


def token_record_use(*, token: PersonalAccessToken) -> None:
    """Stamp `last_used_at`, at most once a minute per token whatever the number of requests or workers.

    The in-memory check skips the write in the common case; the condition in the UPDATE settles concurrent requests,
    of which only the first in each minute changes the row.
    """
    now = timezone.now()
    horizon = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= horizon:
        return
    PersonalAccessToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=horizon), pk=token.pk).update(
        last_used_at=now
    )
    token.last_used_at = now
