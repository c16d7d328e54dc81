import pytest
from django.core.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services, sessions
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_create_hashes_the_password():
    user = services.user_create(username="bob", email="bob@example.com", password="a-long-enough-passphrase")

    assert user.pk is not None
    assert user.password != "a-long-enough-passphrase"
    assert user.check_password("a-long-enough-passphrase")


def test_user_create_hashes_with_argon2_by_default(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]

    user = services.user_create(username="bob", email="bob@example.com", password="a-long-enough-passphrase")

    assert user.password.startswith("argon2")


def test_user_create_runs_password_validators():
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="bob", email="bob@example.com", password="password")

    assert "password" in excinfo.value.message_dict
    assert not User.objects.exists()


def test_user_create_that_loses_a_uniqueness_race_raises_validation_error(monkeypatch):
    UserFactory(username="bob", email="bob@example.com")
    # Skip the checks made before the insert, as a concurrent request that validated first would have.
    monkeypatch.setattr(User, "full_clean", lambda self, **kwargs: None)

    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="BOB", email="other@example.com", password="a-long-enough-passphrase")

    assert excinfo.value.message_dict == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_email_uniqueness_ignores_case():
    UserFactory(email="carol@example.com")

    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="carol", email="CAROL@example.com", password="a-long-enough-passphrase")

    assert excinfo.value.message_dict == {"email": ["A user with that email already exists."]}


def test_user_update_refuses_fields_outside_the_profile():
    user = UserFactory()

    with pytest.raises(ValueError):
        services.user_update(user=user, actor=user, is_staff=True)

    user.refresh_from_db()
    assert not user.is_staff


def test_change_password_checks_the_current_one():
    user = UserFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.user_change_password(user=user, current_password="nope", new_password="a-long-enough-passphrase")

    assert "current_password" in excinfo.value.message_dict


def test_change_password_blacklists_every_outstanding_refresh_token():
    user = UserFactory()
    for _ in range(3):
        sessions.token_obtain(user=user)

    services.user_change_password(user=user, current_password=PASSWORD, new_password="a-long-enough-passphrase")

    assert OutstandingToken.objects.filter(user=user).count() == 3
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3


def test_token_rotate_accepts_a_refresh_token_once():
    user = UserFactory()
    refresh = sessions.token_obtain(user=user)["refresh"]

    sessions.token_rotate(refresh=refresh)

    with pytest.raises(InvalidToken):
        sessions.token_rotate(refresh=refresh)


def test_token_rotate_refuses_a_token_that_lost_the_race_to_the_blacklist(monkeypatch):
    user = UserFactory()
    refresh = sessions.token_obtain(user=user)["refresh"]
    check_user = sessions._refresh_token_user

    def blacklisted_meanwhile(token):
        # Another request blacklists the token after this one's checks have passed and before its own insert.
        found = check_user(token)
        BlacklistedToken.objects.create(token=OutstandingToken.objects.get(token=refresh))
        return found

    monkeypatch.setattr(sessions, "_refresh_token_user", blacklisted_meanwhile)

    with pytest.raises(InvalidToken):
        sessions.token_rotate(refresh=refresh)
    assert BlacklistedToken.objects.filter(token__token=refresh).count() == 1


def test_token_rotate_refuses_tokens_issued_before_a_password_change():
    user = UserFactory()
    refresh = sessions.token_obtain(user=user)["refresh"]
    user.set_password("a-long-enough-passphrase")
    user.save()

    with pytest.raises(InvalidToken):
        sessions.token_rotate(refresh=refresh)


def test_token_obtain_records_the_login():
    user = UserFactory(last_login=None)

    sessions.token_obtain(user=user)

    user.refresh_from_db()
    assert user.last_login is not None
