"""Only superusers manage staff and superuser accounts or grant powers, over the API and in the admin alike (issue: a
staff member changed a superuser's e-mail, reset the password and logged into the admin as the superuser)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from rest_framework import status

from accounts import services
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    return {
        "superuser": UserFactory(is_staff=True, is_superuser=True),
        "staff": UserFactory(is_staff=True),
        "other staff": UserFactory(is_staff=True),
        "member": UserFactory(),
    }


def stored(user) -> dict:
    return User.objects.filter(pk=user.pk).values("email", "pending_email", "first_name", "is_active").get()


# (actor, account) -> status of PATCH /users/{id} with a new first name, and of DELETE /users/{id}.
API_TABLE = [
    ("staff", "superuser", 403, 403),
    ("staff", "other staff", 403, 403),
    ("staff", "member", 200, 204),
    ("staff", "staff", 200, None),  # Deleting oneself is accounts' own test (test_api).
    ("superuser", "staff", 200, 204),
    ("superuser", "member", 200, 204),
    ("member", "staff", 403, 403),
    ("member", "superuser", 403, 403),
]


@pytest.mark.parametrize(("actor", "account", "patch_status", "delete_status"), API_TABLE)
def test_who_manages_which_account_over_the_api(client_for, accounts, actor, account, patch_status, delete_status):
    client, target = client_for(accounts[actor]), accounts[account]
    before = stored(target)

    patched = client.patch(reverse("user-detail", args=[target.pk]), {"first_name": "Changed"}, format="json")

    assert patched.status_code == patch_status
    if patch_status == 403:
        assert stored(target) == before
    if delete_status is None:
        return
    deleted = client.delete(reverse("user-detail", args=[target.pk]))
    assert deleted.status_code == delete_status
    assert User.objects.filter(pk=target.pk).exists() == (delete_status == 403)


def test_staff_cannot_move_a_superusers_email(client_for, accounts):
    superuser = accounts["superuser"]
    before = stored(superuser)

    response = client_for(accounts["staff"]).patch(
        reverse("user-detail", args=[superuser.pk]), {"email": "staff-owned@example.com"}, format="json"
    )

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert stored(superuser) == before


def test_the_services_hold_the_same_rule(accounts):
    staff, superuser = accounts["staff"], accounts["superuser"]

    with pytest.raises(PermissionDenied):
        services.user_update(user=superuser, actor=staff, first_name="Changed")
    with pytest.raises(PermissionDenied):
        services.user_delete(user=accounts["other staff"], actor=staff)
    with pytest.raises(PermissionDenied):
        services.user_set_privileges(user=accounts["member"], actor=staff, is_staff=True)
    with pytest.raises(PermissionDenied):
        services.user_set_privileges(user=staff, actor=staff, is_superuser=True)
    services.user_set_privileges(user=accounts["member"], actor=staff, is_active=False)
    services.user_set_privileges(user=accounts["member"], actor=superuser, is_staff=True)
    assert User.objects.filter(pk=accounts["member"].pk).values_list("is_active", "is_staff").get() == (False, True)


@pytest.fixture
def staff_admin(accounts):
    """A browser logged into the admin as a staff member allowed to add, change and delete users and groups."""
    staff = accounts["staff"]
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["accounts", "auth"]))
    client = Client()
    client.force_login(staff)
    return client


def change_form(user, **changes) -> dict:
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **changes,
    }
    return {key: value for key, value in form.items() if value != ""}


@pytest.mark.parametrize(
    ("account", "expected"),
    [("superuser", 403), ("other staff", 403), ("member", 302)],
)
def test_staff_change_only_accounts_without_powers_in_the_admin(staff_admin, accounts, account, expected):
    target = accounts[account]
    before = stored(target)

    response = staff_admin.post(
        reverse("admin:accounts_user_change", args=[target.pk]), change_form(target, first_name="Changed")
    )

    assert response.status_code == expected
    assert stored(target)["first_name"] == ("Changed" if expected == 302 else before["first_name"])


@pytest.mark.parametrize(("account", "expected"), [("superuser", 403), ("member", 200)])
def test_staff_set_no_superusers_password_in_the_admin(staff_admin, accounts, account, expected):
    target = accounts[account]
    password_hash = User.objects.get(pk=target.pk).password

    response = staff_admin.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": "a-long-enough-passphrase", "password2": "a-long-enough-passphrase", "usable_password": "true"},
    )

    assert response.status_code == (403 if expected == 403 else 302)
    assert (User.objects.get(pk=target.pk).password == password_hash) == (expected == 403)


@pytest.mark.parametrize("account", ["superuser", "other staff"])
def test_staff_delete_no_staff_or_superuser_in_the_admin(staff_admin, accounts, account):
    target = accounts[account]

    page = staff_admin.post(reverse("admin:accounts_user_delete", args=[target.pk]), {"post": "yes"})
    selected = staff_admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [target.pk, accounts["member"].pk], "post": "yes"},
    )

    assert (page.status_code, selected.status_code) == (403, 403)
    assert User.objects.filter(pk=target.pk).exists()


def test_staff_grant_themselves_no_powers_in_the_admin(staff_admin, accounts):
    staff = accounts["staff"]
    group = Group.objects.create(name="everything")
    group.permissions.add(*Permission.objects.all())

    response = staff_admin.post(
        reverse("admin:accounts_user_change", args=[staff.pk]),
        change_form(staff, is_staff="on", is_superuser="on", groups=[group.pk], user_permissions=[1, 2, 3]),
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert (staff.is_superuser, list(staff.groups.all())) == (False, [])
    assert (
        staff.user_permissions.count()
        == Permission.objects.filter(content_type__app_label__in=["accounts", "auth"]).count()
    )


def test_staff_change_no_groups_in_the_admin(staff_admin):
    group = Group.objects.create(name="readers")

    response = staff_admin.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "readers", "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )

    assert response.status_code == 403
    assert group.permissions.count() == 0


def test_a_superuser_grants_powers_in_the_admin(admin_client, accounts):
    member = accounts["member"]

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[member.pk]), change_form(member, is_staff="on")
    )

    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).is_staff


def test_staff_deactivate_an_account_without_powers_in_the_admin(staff_admin, accounts):
    member = accounts["member"]

    response = staff_admin.post(
        reverse("admin:accounts_user_change", args=[member.pk]), change_form(member, is_active="")
    )

    assert response.status_code == 302
    assert stored(member)["is_active"] is False
