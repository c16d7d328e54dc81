"""Who may manage which account: the one rule, read by the API's permission class, the admin and the services.

Everyone manages their own account. Staff manage the accounts of people without staff or superuser powers; only a
superuser manages staff and superusers, or grants those powers, groups and permissions. So no staff member can take
over an account that holds more power than theirs.
"""

from django.core.exceptions import PermissionDenied

from accounts.models import User


def _holds_power(account: User) -> bool:
    """Whether the account, as stored, is staff or superuser (a form may have changed the instance already)."""
    stored = User.objects.filter(pk=account.pk).values_list("is_staff", "is_superuser").first()
    return any(stored) if stored is not None else account.is_staff or account.is_superuser


def may_manage(actor: User, account: User) -> bool:
    """Whether `actor` may change, deactivate or delete `account`."""
    if actor.pk == account.pk or actor.is_superuser:
        return True
    return actor.is_staff and not _holds_power(account)


def require_manage(actor: User, account: User) -> None:
    if not may_manage(actor, account):
        raise PermissionDenied("Only a superuser may change a staff or superuser account.")


def require_grant(actor: User) -> None:
    """Granting staff or superuser status, groups or permissions is a superuser's alone."""
    if not actor.is_superuser:
        raise PermissionDenied("Only a superuser may grant staff or superuser status, groups or permissions.")
