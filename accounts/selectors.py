"""The reads of accounts that other code uses (the web UI first)."""

from accounts.models import User


def user_find(*, name: str) -> User | None:
    """The active account `name` names (a username or an e-mail, as `UserQuerySet.identified_by` reads it), if any."""
    return User.objects.identified_by(name).filter(is_active=True).first()
