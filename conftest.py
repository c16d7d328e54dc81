import pytest
from django_q.conf import Conf
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from registry.tests.support import bearer_client


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, monkeypatch):
    # A fast hasher (Argon2 is slow on purpose) and a cache of the test's own, so throttle counts never leak.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(tmp_path)}
    }
    # Tasks run at once, in the test's own process and transaction (Django Q2's synchronous mode); the system tests
    # run them in a real worker. The queue reads its settings once, at import, hence the patch instead of a setting.
    monkeypatch.setattr(Conf, "SYNC", True)
    # Artifacts in the test's own folders.
    (tmp_path / "artifacts").mkdir(mode=0o700)
    (tmp_path / "artifacts-incoming").mkdir(mode=0o700)
    artifacts = {**settings.STORAGES["artifacts"]}
    artifacts["OPTIONS"] = {**artifacts["OPTIONS"], "location": tmp_path / "artifacts"}
    settings.STORAGES = {**settings.STORAGES, "artifacts": artifacts}
    settings.ARTIFACTS_SPOOL_DIR = tmp_path / "artifacts-incoming"


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """An API client that sends a real bearer token of the given user."""
    return bearer_client


@pytest.fixture
def user_client(client_for, user):
    return client_for(user)


@pytest.fixture
def other_client(client_for, other_user):
    return client_for(other_user)
