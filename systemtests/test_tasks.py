"""Background work in a real task worker (`manage.py qcluster`) beside gunicorn, on the embedded default (SQLite, the
queue in the database): the welcome mail arrives at a local SMTP server within seconds, registration does not wait
for a mail server that hangs and the mail arrives once it recovers, and a worker killed in the middle of a task loses
nothing."""

import re
import time
from collections import Counter

from systemtests.harness import MailSink, register, report, request

WELCOME = "Welcome to Registry"


def test_the_welcome_mail_arrives_within_seconds(start_server, mail_sink):
    server = start_server(None, workers=1, EMAIL_URL=mail_sink.url)

    started = time.monotonic()
    register(server.port, "alice")
    (message,) = mail_sink.wait_for(1, subject=WELCOME, timeout=15)
    report("welcome mail through the worker", seconds_until_delivered=round(message.at - started, 2))

    assert message.recipients == ("alice@example.com",)
    assert "your Registry account is ready" in message.body
    health = request(server.port, "GET", "/health").json()
    assert health["queue"] == {"status": "ok", "queued": 0, "oldest_seconds": 0.0}


def test_a_password_reset_mail_made_by_the_worker_carries_a_token_that_works(start_server, mail_sink):
    server = start_server(None, workers=1, EMAIL_URL=mail_sink.url)
    register(server.port, "forgetful")

    assert request(server.port, "POST", "/auth/password/reset", data={"email": "forgetful@example.com"}).status == 204
    (message,) = mail_sink.wait_for(1, subject="Registry: set a new password", timeout=15)
    uid = re.search(r"^uid: (\S+)", message.body, re.M).group(1)
    token = re.search(r"^token: (\S+)", message.body, re.M).group(1)
    confirm = {"uid": uid, "token": token, "new_password": "another-long-passphrase"}

    assert request(server.port, "POST", "/auth/password/reset/confirm", data=confirm).status == 204
    login = {"username": "forgetful", "password": "another-long-passphrase"}
    assert request(server.port, "POST", "/auth/token", data=login).status == 200


def test_registration_does_not_wait_for_a_hanging_mail_server_and_the_mail_arrives_after_it_recovers(
    start_server, hanging_mail_server
):
    users = [f"patient{index}" for index in range(4)]
    server = start_server(
        None, workers=1, EMAIL_URL=hanging_mail_server.url, EMAIL_TIMEOUT=2, MAIL_RETRY_SECONDS=1, MAIL_ATTEMPTS=20
    )

    latencies = []
    for username in users:
        started = time.monotonic()
        register(server.port, username)
        latencies.append(time.monotonic() - started)
    assert hanging_mail_server.wait_for_connection(timeout=15), "the worker never tried the mail server"
    # The worker's tries time out; meanwhile the API keeps answering and /health stays 200.
    time.sleep(3)
    health = request(server.port, "GET", "/health")

    hanging_mail_server.stop()
    recovered = time.monotonic()
    sink = MailSink(port=hanging_mail_server.port).start()
    try:
        messages = sink.wait_for(len(users), subject=WELCOME, timeout=120)
        time.sleep(2)  # Room for a duplicate to show up.
        messages = sink.messages(WELCOME)
    finally:
        sink.stop()

    report(
        "registration while the mail server hangs",
        registration_seconds=[round(latency, 3) for latency in latencies],
        health_while_hanging=health.json(),
        seconds_from_recovery_to_last_mail=round(max((m.at for m in messages), default=recovered) - recovered, 1),
    )
    assert max(latencies) < 1.0, latencies
    assert health.status == 200
    received = Counter(recipient for message in messages for recipient in message.recipients)
    assert received == {f"{username}@example.com": 1 for username in users}


def test_a_worker_killed_in_the_middle_of_a_task_loses_nothing(start_server, hanging_mail_server):
    # The mail task hangs on the mail server long enough to be killed in the middle of it; its lease (TASK_RETRY)
    # then runs out and the restarted worker runs it again.
    server = start_server(
        None, workers=1, EMAIL_URL=hanging_mail_server.url, EMAIL_TIMEOUT=30, TASK_TIMEOUT=40, TASK_RETRY=45
    )
    register(server.port, "survivor")
    assert hanging_mail_server.wait_for_connection(timeout=15), "the worker never started the mail task"

    server.workers[0].kill()
    killed = time.monotonic()
    queued = request(server.port, "GET", "/health").json()["queue"]
    hanging_mail_server.stop()
    sink = MailSink(port=hanging_mail_server.port).start()
    try:
        server.start_worker()
        messages = sink.wait_for(1, subject=WELCOME, timeout=120)
        time.sleep(2)
        messages = sink.messages(WELCOME)
    finally:
        sink.stop()

    report(
        "worker killed in the middle of a mail task",
        queue_after_the_kill=queued,
        seconds_from_kill_to_delivery=round(messages[0].at - killed, 1) if messages else None,
    )
    assert [message.recipients for message in messages] == [("survivor@example.com",)]
