import logging
import re
import secrets
import unicodedata
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.access import require_grant, require_manage
from accounts.models import User
from accounts.sessions import user_revoke_tokens
from accounts.signals import user_deleting
from accounts.tokens import email_change_token
from common.db import set_fields, validated_save
from common.mail import mail_send_on_commit
from common.text import fold, one_line

logger = logging.getLogger(__name__)

USER_EDITABLE_FIELDS = ("username", "first_name", "last_name", "full_name", "age")
PRIVILEGE_FIELDS = ("is_staff", "is_superuser")
NAME_PARTS = ("first_name", "last_name")
DERIVED_USERNAME_ATTEMPTS = 8


def _validate_password(*, password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _with_full_name(*, user: User, fields: dict) -> dict:
    """Keep `full_name` in step with the name parts: given alone it is kept as sent; given with first or last names it
    must equal them joined by a space (else 400); not given, it follows changed parts."""
    if not any(part in fields for part in NAME_PARTS):
        return fields
    joined = " ".join(filter(None, (fields.get(part, getattr(user, part)).strip() for part in NAME_PARTS)))
    if "full_name" in fields and fields["full_name"].strip() != joined:
        raise ValidationError(
            {"full_name": [f"The full name must be the first and last names joined by a space: {joined!r}."]}
        )
    return {**fields, "full_name": joined}


def _username_from_email(email: str) -> str:
    """A username made from an e-mail's local part, within the username rules (see accounts.validators)."""
    local = email.rpartition("@")[0] or email
    name = re.sub(r"[^\w.+-]+", "-", unicodedata.normalize("NFKC", local)).strip("-.") or "user"
    if name.isdigit():
        name = f"user-{name}"
    return name[:140]


def _save_new_user(user: User, *, derive_username: bool) -> None:
    """Save a new account; a username made from the e-mail gets a short random suffix while it is taken, also when a
    concurrent registration takes it first."""
    base = user.username
    for attempt in range(DERIVED_USERNAME_ATTEMPTS):
        try:
            validated_save(user)
            return
        except ValidationError as exc:
            taken = exc.message_dict.get("username") == ["A user with that username already exists."]
            if not (derive_username and taken) or attempt == DERIVED_USERNAME_ATTEMPTS - 1:
                raise
            user.username = f"{base}-{secrets.token_hex(2)}"


def user_create(
    *,
    email: str,
    password: str | None,
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
    full_name: str | None = None,
    age: int | None = None,
) -> User:
    """Create an account; a welcome e-mail is queued once committed.

    Without a username, one is made from the e-mail. Without a password (accounts that staff create for someone), the
    password is unusable until its owner sets one through a password reset.
    """
    names = {"first_name": first_name, "last_name": last_name}
    if full_name is not None:
        names["full_name"] = full_name
    names = _with_full_name(user=User(), fields=names) if (first_name or last_name) else names
    user = User(username=username or _username_from_email(email), email=email, age=age, **names)
    if password is None:
        user.set_unusable_password()
    else:
        _validate_password(password=password, user=user, field="password")
        user.set_password(password)
    with transaction.atomic():
        _save_new_user(user, derive_username=username is None)
        mail_send_on_commit(
            to=[user.email],
            subject="Welcome to Registry",
            body=_welcome(user),
        )
    return user


def _welcome(user: User) -> str:
    site = settings.SITE_URL
    return (
        f"Hello {one_line(user.get_short_name() or user.username)},\n\n"
        "your Registry account is ready. What to do next:\n\n"
        f"- Sign in to the web UI to see projects and runs: {site}/ui/\n"
        f"- Make a personal access token for your training code on the tokens page: {site}/ui/tokens\n"
        "- Point MLflow's client at Registry, and log runs as you do today:\n\n"
        f"    export MLFLOW_TRACKING_URI={site}\n"
        "    export MLFLOW_TRACKING_TOKEN=<your token>\n\n"
        "The README's quick start walks through it step by step.\n"
    )


def user_update(*, user: User, actor: User, **fields) -> User:
    """Change a user's profile fields, as the user themself or as someone who manages the account (accounts.access).

    A new `email` is never set here: it takes effect once the new address confirms it (user_request_email_change),
    and a user changing their own must prove their password there.
    """
    require_manage(actor, user)
    email = fields.pop("email", None)
    if email is not None and fold(email.strip()) != user.email_key:
        if actor.pk == user.pk:
            raise ValidationError(
                {"email": ["Your e-mail changes through POST /auth/email, with your current password."]}
            )
        user_request_email_change(user=user, actor=actor, email=email)
    return validated_save(set_fields(user, _with_full_name(user=user, fields=fields), allowed=USER_EDITABLE_FIELDS))


def user_set_privileges(*, user: User, actor: User, is_active: bool | None = None, **privileges: bool) -> User:
    """Activate or deactivate an account (whoever manages it: accounts.access), or grant or take away staff or
    superuser status (a superuser alone, as for groups and permissions: require_grant)."""
    require_manage(actor, user)
    changed = {name: value for name, value in privileges.items() if getattr(user, name) != value}
    if changed:
        require_grant(actor)
    if is_active is not None:
        changed["is_active"] = is_active
    return validated_save(set_fields(user, changed, allowed=(*PRIVILEGE_FIELDS, "is_active")))


def user_request_email_change(*, user: User, actor: User, email: str, current_password: str | None = None) -> User:
    """Ask for a user's e-mail to become `email`: a link goes to the new address, a notice to the current one, and the
    e-mail changes only when the link is used (user_confirm_email_change). Until then every mail, password resets
    included, goes to the current address.

    A user changing their own e-mail gives their current password; staff who manage the account (accounts.access)
    do not, but the new address must still confirm.
    """
    require_manage(actor, user)
    if actor.pk == user.pk and not user.check_password(current_password or ""):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    email = email.strip()
    if fold(email) == user.email_key:
        raise ValidationError({"email": ["This is already the account's e-mail."]})
    if User.objects.identified_by(email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": ["A user with that email already exists."]})
    user.pending_email = email
    with transaction.atomic():
        validated_save(user)
        mail_send_on_commit(
            to=[email],
            subject="Registry: confirm your new e-mail",
            body_from=("accounts.services.email_change_message", [user.pk]),
        )
        mail_send_on_commit(
            to=[user.email],
            subject="Registry: your e-mail is about to change",
            body=(
                f"Hello {one_line(user.get_short_name() or user.username)},\n\n"
                f"someone asked to change the e-mail of your Registry account ({one_line(user.username)}) to\n"
                f"{one_line(email)}. It changes once that address confirms it with the link mailed to it.\n\n"
                "If you did not ask for this, change your password now: that also cancels the change.\n"
            ),
        )
    return user


def _link_message(user: User, *, generator, what: str, url: str, route: str, fields: str = "") -> str:
    """A mail's body offering `what` through a one-time link to `url` (the user's uid and a token of `generator`), and
    the same uid and token for API clients to send to `route`."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = generator.make_token(user)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    return (
        f"Hello {one_line(user.get_short_name() or user.username)},\n\n{what} To do so, open\n\n"
        f"{url}?{urlencode({'uid': uid, 'token': token})}\n\n"
        f"or send POST {route} with\n\nuid: {uid}\ntoken: {token}\n{fields}\n"
        f"The link works once, for {hours} hours. If you did not ask for it, ignore this mail.\n"
    )


def email_change_message(user_id: int) -> str | None:
    """The body of an e-mail confirmation mail, made by the task worker when it sends it (so that the token is never
    stored in the queue); None if the account is gone, inactive or has no change pending any more."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(pending_email="").first()
    if user is None:
        return None
    return _link_message(
        user,
        generator=email_change_token,
        what=f"someone asked to make {one_line(user.pending_email)} the e-mail of your Registry account "
        f"({one_line(user.username)}).",
        url=settings.EMAIL_CONFIRM_URL,
        route="/auth/email/confirm",
    )


def user_confirm_email_change(*, uid: str, token: str) -> User:
    """Make the pending e-mail the account's, with the token mailed to it. The token works once, for
    PASSWORD_RESET_TIMEOUT seconds, and stops working if the password or the pending e-mail changes meanwhile."""
    user = _user_from_uid(uid)
    if user is None or not user.pending_email or not email_change_token.check_token(user, token):
        raise ValidationError({"token": ["This confirmation link is invalid, used or expired."]})
    user.email, user.pending_email = user.pending_email, ""
    return validated_save(user)


def user_delete(*, user: User, actor: User) -> None:
    """Delete a user (themself, or someone who manages the account: accounts.access); what they own goes with them,
    and their tokens stop working because the user is gone."""
    require_manage(actor, user)
    with transaction.atomic():
        user_deleting.send(sender=User, user=user)
        user.delete()


def _replace_password(*, user: User, new_password: str) -> None:
    """Set a new password (checked by Django's validators) and revoke every token issued before it."""
    _validate_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password", "updated_at"])
        user_revoke_tokens(user=user)


def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change a password after checking the current one, and revoke every token issued before."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    _replace_password(user=user, new_password=new_password)


def password_reset_message(user_id: int) -> str | None:
    """The body of a password reset mail, made by the task worker when it sends the mail, so that the one-time token
    is never stored in the queue or the task history; None (nothing to send) if the account is gone or inactive."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return _link_message(
        user,
        generator=default_token_generator,
        what=f"someone asked to set a new password for your Registry account ({one_line(user.username)}).",
        url=settings.PASSWORD_RESET_URL,
        route="/auth/password/reset/confirm",
        fields="new_password: (your new password)\n",
    )


def user_request_password_reset(*, email: str) -> None:
    """Mail a one-time password reset token to the active account holding `email`, if there is one.

    The caller learns nothing either way: the answer is the same, and the mail is sent after the request.
    """
    user = User.objects.identified_by(email).filter(is_active=True).first() if "@" in email else None
    if user is not None:
        mail_send_on_commit(
            to=[user.email],
            subject="Registry: set a new password",
            body_from=("accounts.services.password_reset_message", [user.pk]),
        )


def _user_from_uid(uid: str) -> User | None:
    """The active account a mailed `uid` names, if any."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return User.objects.identified_by(pk).filter(is_active=True).first()


def user_reset_password(*, uid: str, token: str, new_password: str) -> None:
    """Set a new password with a token from a reset mail (Django's token generator: it works once, and expires after
    PASSWORD_RESET_TIMEOUT), and revoke every token issued before, as a password change does."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["This password reset link is invalid, used or expired."]})
    _replace_password(user=user, new_password=new_password)
