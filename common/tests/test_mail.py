"""Mail as a task: queued on commit, sent by the worker (synchronously here), retried with a doubling delay."""

import ast
import datetime
import logging

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_q.models import Failure, Schedule, Success

from common import mail as registry_mail
from common.mail import FolderEmailBackend, MailNotSent, mail_send, mail_send_on_commit

pytestmark = pytest.mark.django_db

RELEASED: list = []
SECRET = "one-time-secret-4711"


def secret_body(name: str) -> str | None:
    """A stand-in for a mail that carries a secret, made when the mail is sent; None once there is nothing to send."""
    return None if name == "gone" else f"Hello {name}, your code is {SECRET}."


def remember_release(ids: list[int]) -> None:
    """A stand-in for a reminder's re-arming, found by its dotted path like the real ones."""
    RELEASED.append(ids)


ON_FAILURE = ("common.tests.test_mail.remember_release", [[7, 8]])


@pytest.fixture(autouse=True)
def _forget_releases():
    RELEASED.clear()


@pytest.fixture
def refusing_server(monkeypatch):
    def send_mail(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(registry_mail, "send_mail", send_mail)


def _retries() -> list[Schedule]:
    return list(Schedule.objects.filter(func="common.mail.mail_send").order_by("id"))


def test_a_mail_is_sent_by_a_task_once_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            mail_send_on_commit(to=["a@example.com"], subject="Hello", body="Body")
            assert mail.outbox == []

    (message,) = mail.outbox
    assert (message.to, message.subject, message.body) == (["a@example.com"], "Hello", "Body")
    (task,) = Success.objects.all()
    assert task.func == "common.mail.mail_send"
    assert task.name == "mail: Hello (try 1)"
    assert task.result == "sent to 1 recipient(s)"


def test_a_rolled_back_transaction_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            mail_send_on_commit(to=["a@example.com"], subject="Hello", body="Body")
            raise RuntimeError("roll back")

    assert mail.outbox == []


@pytest.mark.parametrize(("attempt", "delay"), [(1, 60), (2, 120), (3, 240), (5, 960)])
def test_a_failed_try_schedules_the_next_with_a_doubling_delay(refusing_server, settings, attempt, delay):
    settings.MAIL_ATTEMPTS = 6
    settings.MAIL_RETRY_SECONDS = 60
    before = timezone.now()

    with pytest.raises(MailNotSent, match=f"try {attempt} of 6"):
        mail_send(to=["a@example.com"], subject="Hello", body="Body", on_failure=ON_FAILURE, attempt=attempt)

    (retry,) = _retries()
    assert retry.schedule_type == Schedule.ONCE
    assert ast.literal_eval(retry.kwargs) == {
        "to": ["a@example.com"],
        "subject": "Hello",
        "body": "Body",
        "body_from": None,
        "on_failure": ON_FAILURE,
        "attempt": attempt + 1,
        "q_options": {"task_name": f"mail: Hello (try {attempt + 1})"},
    }
    assert before + datetime.timedelta(seconds=delay) <= retry.next_run
    assert retry.next_run <= timezone.now() + datetime.timedelta(seconds=delay)
    assert RELEASED == []


def test_the_last_failed_try_gives_up_and_runs_the_failure_callback(refusing_server, settings):
    settings.MAIL_ATTEMPTS = 3

    with pytest.raises(MailNotSent, match="try 3 of 3"):
        mail_send(to=["a@example.com"], subject="Hello", body="Body", on_failure=ON_FAILURE, attempt=3)

    assert _retries() == []
    assert RELEASED == [[7, 8]]


def test_a_retry_that_succeeds_sends_the_mail_and_schedules_nothing(settings):
    mail_send(to=["a@example.com"], subject="Hello", body="Body", on_failure=ON_FAILURE, attempt=2)

    assert [message.to for message in mail.outbox] == [["a@example.com"]]
    assert _retries() == []
    assert RELEASED == []


def test_a_failed_send_does_not_fail_the_caller_and_leaves_a_retry(refusing_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail_send_on_commit(to=["a@example.com"], subject="Hello", body="Body", on_failure=ON_FAILURE)

    assert mail.outbox == []
    assert len(_retries()) == 1
    assert RELEASED == []


def test_a_queue_that_refuses_the_mail_runs_the_failure_callback(monkeypatch, django_capture_on_commit_callbacks):
    def broken_async_task(*args, **kwargs):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(registry_mail, "async_task", broken_async_task)
    with django_capture_on_commit_callbacks(execute=True):
        mail_send_on_commit(to=["a@example.com"], subject="Hello", body="Body", on_failure=ON_FAILURE)

    assert mail.outbox == []
    assert RELEASED == [[7, 8]]
    assert not Failure.objects.exists()


def test_a_body_made_at_send_time_is_sent_and_never_stored(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail_send_on_commit(
            to=["a@example.com"], subject="Code", body_from=("common.tests.test_mail.secret_body", ["Ada"])
        )

    (message,) = mail.outbox
    assert message.body == f"Hello Ada, your code is {SECRET}."
    (task,) = Success.objects.all()
    assert SECRET not in repr(task.args) + repr(task.kwargs) + repr(task.result)


def test_a_retried_body_made_at_send_time_keeps_only_its_recipe(refusing_server):
    with pytest.raises(MailNotSent):
        mail_send(to=["a@example.com"], subject="Code", body_from=("common.tests.test_mail.secret_body", ["Ada"]))

    (retry,) = _retries()
    assert SECRET not in retry.kwargs
    assert ast.literal_eval(retry.kwargs)["body_from"] == ("common.tests.test_mail.secret_body", ["Ada"])


def test_a_body_that_is_no_longer_wanted_sends_nothing():
    result = mail_send(to=["a@example.com"], subject="Code", body_from=("common.tests.test_mail.secret_body", ["gone"]))

    assert result == "nothing to send"
    assert mail.outbox == []


@pytest.mark.parametrize("content", [{}, {"body": "Body", "body_from": ("common.tests.test_mail.secret_body", [])}])
def test_a_mail_needs_exactly_one_of_body_and_body_from(content):
    with pytest.raises(ValueError, match="either a body or body_from"):
        mail_send_on_commit(to=["a@example.com"], subject="Hello", **content)


def test_without_a_mail_server_each_message_is_kept_in_a_file_and_named_in_one_log_line(tmp_path, caplog):
    folder = tmp_path / "mail"
    folder.mkdir()
    backend = FolderEmailBackend(file_path=str(folder))
    message = EmailMessage("Reset your password", "Open http://x/reset?token=s3cret", "registry@localhost", ["a@b.c"])
    with caplog.at_level(logging.INFO, logger="common.mail"):
        assert backend.send_messages([message]) == 1
    (kept,) = folder.iterdir()
    assert "Open http://x/reset?token=s3cret" in kept.read_text()
    assert [record.getMessage() for record in caplog.records] == [
        f"Mail to a@b.c: 'Reset your password', kept in {kept}"
    ]
