import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule

from tokens import services
from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_create_returns_a_prefixed_secret_and_stores_only_its_digest(user, time_machine):
    time_machine.move_to(T0, tick=False)

    token, secret = services.token_create(user=user, name="  ci  ", scope="read", expires_in_days=30)

    assert secret.startswith("reg_pat_")
    assert len(secret) == 51  # The prefix and 32 random bytes in URL-safe base64 (43 characters).
    row = PersonalAccessToken.objects.values().get(pk=token.pk)
    assert row == {
        "id": token.pk,
        "user_id": user.pk,
        "name": "ci",
        "name_key": "ci",
        "scope": "read",
        "token_prefix": secret[:16],
        "digest": hashlib.sha256(secret.encode()).hexdigest(),
        "created_at": T0,
        "expires_at": datetime(2030, 1, 31, 12, 0, 0, tzinfo=UTC),
        "last_used_at": None,
    }


def test_a_token_lives_exactly_its_days_from_its_creation(user):
    token, _ = services.token_create(user=user, name="ci", expires_in_days=90)

    assert token.expires_at - token.created_at == timedelta(days=90)


def test_each_secret_is_new(user):
    secrets = {services.token_create(user=user, name=f"t{n}")[1] for n in range(20)}

    assert len(secrets) == 20


def test_a_taken_name_is_a_field_error(user):
    services.token_create(user=user, name="deploy")

    with pytest.raises(ValidationError) as caught:
        services.token_create(user=user, name="DEPLOY")

    assert caught.value.message_dict == {"name": ["You already have a token with this name."]}
    assert PersonalAccessToken.objects.count() == 1


def test_creation_mails_the_owner_after_the_commit_naming_the_token(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        token, secret = services.token_create(user=user, name="nightly training")
    assert mail.outbox == []

    for callback in callbacks:
        callback()

    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "A personal access token was created: nightly training"
    assert "nightly training" in message.body
    assert token.token_prefix in message.body
    assert f"DELETE /auth/tokens/{token.pk}" in message.body
    assert secret not in message.body and secret[16:] not in message.body


def test_a_failing_mail_server_keeps_the_token_and_the_notice_is_retried(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("common.mail.send_mail", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        token, _ = services.token_create(user=user, name="ci")

    assert PersonalAccessToken.objects.filter(pk=token.pk).exists()
    (retry,) = Schedule.objects.filter(func="common.mail.mail_send")
    assert "'attempt': 2" in retry.kwargs and "A personal access token was created: ci" in retry.kwargs


def test_revoke_deletes_the_token(user):
    token = PersonalAccessTokenFactory(user=user)

    services.token_revoke(token=token)

    assert not PersonalAccessToken.objects.exists()


def _updates(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith("UPDATE"))


def test_last_use_is_written_at_most_once_a_minute(user, time_machine):
    token = PersonalAccessTokenFactory(user=user)
    stamps = []
    writes = []
    for seconds in [0, 30, 59, 61, 90, 125]:
        time_machine.move_to(T0 + timedelta(seconds=seconds), tick=False)
        fresh = PersonalAccessToken.objects.get(pk=token.pk)
        with CaptureQueriesContext(connection) as queries:
            services.token_record_use(token=fresh)
        writes.append(_updates(queries))
        stamps.append(PersonalAccessToken.objects.get(pk=token.pk).last_used_at.strftime("%H:%M:%S"))

    assert stamps == ["12:00:00", "12:00:00", "12:00:00", "12:01:01", "12:01:01", "12:02:05"]
    assert writes == [1, 0, 0, 1, 0, 1]


def test_a_stale_copy_does_not_write_the_last_use_again(user, time_machine):
    # Two workers load the same token at once; both see no last use. Only the first write lands.
    token = PersonalAccessTokenFactory(user=user)
    first, second = PersonalAccessToken.objects.get(pk=token.pk), PersonalAccessToken.objects.get(pk=token.pk)
    time_machine.move_to(T0, tick=False)
    services.token_record_use(token=first)
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, 20, tzinfo=UTC), tick=False)

    services.token_record_use(token=second)

    token.refresh_from_db()
    assert token.last_used_at == T0
