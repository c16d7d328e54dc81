import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_full_name_is_the_stored_full_name():
    assert UserFactory.build(
        first_name="Grace", last_name="Hopper", full_name="Rear Admiral Hopper"
    ).get_full_name() == ("Rear Admiral Hopper")


def test_str_is_the_username():
    assert str(UserFactory.build(username="grace")) == "grace"


@pytest.mark.parametrize(("age", "valid"), [(None, True), (0, True), (150, True), (151, False)])
def test_age_range(age, valid):
    user = UserFactory.build(age=age)
    if valid:
        user.full_clean(exclude=["password"])
    else:
        with pytest.raises(ValidationError):
            user.full_clean(exclude=["password"])


def test_email_is_required():
    with pytest.raises(ValidationError) as excinfo:
        UserFactory.build(email="").full_clean()

    assert "email" in excinfo.value.message_dict


def test_username_case_variants_clash_in_the_database():
    UserFactory(username="Dave")

    with pytest.raises(ValidationError):
        UserFactory.build(username="dave").full_clean()


def test_natural_key_lookup_ignores_case():
    user = UserFactory(username="Erin")

    assert User.objects.get_by_natural_key("ERIN") == user


@pytest.mark.parametrize("login", ["frank", "FRANK", "frank@example.com", "Frank@Example.COM"])
def test_backend_authenticates_by_username_or_email(login):
    user = UserFactory(username="frank", email="frank@example.com")

    assert authenticate(username=login, password=PASSWORD) == user


def test_backend_reads_a_name_with_an_at_sign_as_an_email_only():
    email_owner = UserFactory(username="gina", email="gina@example.com")
    UserFactory(username="gina-example.com", email="other@example.com")

    assert authenticate(username="GINA@example.com", password=PASSWORD) == email_owner
    assert authenticate(username="gina-example.com", password=PASSWORD) != email_owner


def test_backend_refuses_inactive_users_and_wrong_passwords():
    UserFactory(username="henry", is_active=False)
    UserFactory(username="iris")

    assert authenticate(username="henry", password=PASSWORD) is None
    assert authenticate(username="iris", password="wrong") is None
    assert authenticate(username="nobody", password=PASSWORD) is None
