"""The data migration that brings existing accounts under the identity rules, run on rows from before them."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import authenticate

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

identity_rules = importlib.import_module("accounts.migrations.0004_user_identity_rules")


def _old_row(username: str, email: str) -> User:
    # Rows as they could be stored before the rules: keys are written by the migration, so give placeholders here.
    user = UserFactory.build(username=username, email=email)
    User.objects.bulk_create([user])
    stored = User.objects.get(username=username)
    User.objects.filter(pk=stored.pk).update(username_key=f"placeholder-{stored.pk}", email_key=None)
    return stored


def test_existing_accounts_are_renamed_to_follow_the_rules_and_can_still_log_in():
    digits = _old_row("55", "digits@example.com")
    squatter = _old_row("VICTIM@EXAMPLE.COM", "squatter@example.com")
    first = _old_row("Ärger", "first@example.com")
    second = _old_row("ärger", "FIRST@example.com")

    identity_rules.apply_rules(apps, None)

    rows = {user.pk: (user.username, user.username_key, user.email, user.email_key) for user in User.objects.all()}
    assert rows == {
        digits.pk: ("user-55", "user-55", "digits@example.com", "digits@example.com"),
        squatter.pk: ("VICTIM-at-EXAMPLE.COM", "victim-at-example.com", "squatter@example.com", "squatter@example.com"),
        first.pk: ("Ärger", "ärger", "first@example.com", "first@example.com"),
        second.pk: ("ärger-2", "ärger-2", f"FIRST+{second.pk}@example.com", f"first+{second.pk}@example.com"),
    }
    assert authenticate(username="digits@example.com", password=PASSWORD).pk == digits.pk
    assert authenticate(username="squatter@example.com", password=PASSWORD).pk == squatter.pk
    assert authenticate(username="first@example.com", password=PASSWORD).pk == first.pk
    assert authenticate(username="ärger-2", password=PASSWORD).pk == second.pk
