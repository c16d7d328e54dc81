"""The service's mail: queued when the transaction that causes it commits, sent by the task worker.

A request never waits for the mail server. A send that fails is tried again later, each delay twice the one before
(MAIL_RETRY_SECONDS, then twice that, ...), up to MAIL_ATTEMPTS tries in all; every failed try is a failed task in
the admin, with its traceback. After the last try, the optional `on_failure` callback runs (the reminders use it to
re-arm what they had claimed, so that a later run tries again).
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.core.mail.backends import filebased
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from common.queue import queue_broker

logger = logging.getLogger(__name__)

TASK = "common.mail.mail_send"

# (dotted path of a function, list of arguments): plain data, because a retry is stored as a schedule whose keyword
# arguments must be Python literals.
Callback = tuple[str, list]


def mail_send_on_commit(
    *,
    to: list[str],
    subject: str,
    body: str | None = None,
    body_from: Callback | None = None,
    on_failure: Callback | None = None,
    using: str | None = None,
) -> None:
    """Queue a mail for the worker once the current transaction commits (at once outside a transaction).

    `body` is the text; or `body_from` names a function that the worker calls to make it when it sends, for a mail
    that carries a secret (a password reset token), which then is never stored in the queue or the task history. Such a
    function returns None when there is nothing to send any more.

    If the queue cannot take the mail, the error is logged and `on_failure` runs: the caller's transaction has
    committed already, so the mail is lost, never the request.
    """
    if (body is None) == (body_from is None):
        raise ValueError("Give a mail either a body or body_from.")
    message = {"to": list(to), "subject": subject, "body": body, "body_from": body_from, "on_failure": on_failure}

    def enqueue_mail() -> None:  # A named function: a robust callback that fails is logged by its name.
        _enqueue(message)

    transaction.on_commit(enqueue_mail, using=using, robust=True)


class MailNotSent(Exception):
    """A try to send a mail failed (the cause is chained); the task has already arranged what comes next."""


def _enqueue(message: dict) -> None:
    try:
        async_task(TASK, **message, task_name=_task_name(message, attempt=1), broker=queue_broker())
    except MailNotSent:
        # Only where tasks run in the caller's process (the tests' synchronous mode): the send itself failed.
        raise
    except Exception:
        logger.exception("Could not queue the mail %r", message["subject"])
        _failed(message)


def _task_name(message: dict, *, attempt: int) -> str:
    # The admin lists tasks by name: say what the mail is and which try, never to whom (an address is personal data).
    return f"mail: {message['subject'][:60]} (try {attempt})"


def _call(callback: Callback):
    path, args = callback
    return import_string(path)(*args)


def _failed(message: dict) -> None:
    if message.get("on_failure"):
        _call(message["on_failure"])


def mail_send(
    *,
    to: list[str],
    subject: str,
    body: str | None = None,
    body_from: Callback | None = None,
    on_failure: Callback | None = None,
    attempt: int = 1,
) -> str:
    """The task: send one mail; when that fails, schedule the next try with a doubled delay, or give up."""
    message = {"to": to, "subject": subject, "body": body, "body_from": body_from, "on_failure": on_failure}
    if body_from is not None:
        body = _call(body_from)
        if body is None:
            return "nothing to send"
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=to)
    except Exception as exc:
        if attempt < settings.MAIL_ATTEMPTS:
            delay = settings.MAIL_RETRY_SECONDS * 2 ** (attempt - 1)
            schedule(
                TASK,
                **message,
                attempt=attempt + 1,
                schedule_type=Schedule.ONCE,
                next_run=timezone.now() + datetime.timedelta(seconds=delay),
                q_options={"task_name": _task_name(message, attempt=attempt + 1)},
            )
            logger.warning("Mail %r failed (try %s); trying again in %s s", subject, attempt, delay)
        else:
            logger.error("Mail %r failed %s times; giving up", subject, attempt)
            _failed(message)
        raise MailNotSent(f"try {attempt} of {settings.MAIL_ATTEMPTS}: {exc!r}") from exc
    return f"sent to {len(to)} recipient(s)"


class FolderEmailBackend(filebased.EmailBackend):
    """Django's file backend (each connection's messages in one file under EMAIL_FILE_PATH), naming each message in
    one log line: a developer without a mail server sees mail arrive and finds its links, and no body (a reset link
    among them) goes into the service's log."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        for message in email_messages[:sent]:
            logger.info("Mail to %s: %r, kept in %s", ", ".join(message.to), message.subject, self._fname)
        return sent
