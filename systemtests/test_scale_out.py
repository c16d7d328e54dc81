"""Scale-out on one machine: two gunicorn instances and two task workers on one PostgreSQL database and one Redis
(the cache and the task queue), sharing no file. What one instance records, the other respects: the login throttle
counts across both (and a device cookie one gives, the other honours), a refresh token blacklisted on one is refused
on the other, and every mail is sent exactly once however the work is spread over the two workers."""

import time
from collections import Counter

from systemtests.harness import PASSWORD, device_cookie, login, register, report, request

WELCOME = "Welcome to Registry"
REMINDER = "Registry: projects expiring soon"
OWNERS = 50
REGISTRATIONS = 8  # Under the registration throttle of one client address (10 a minute).
REMINDER_RUNS = 12
WRONG_LOGINS = 20
ALLOWED_PER_MINUTE = 10  # AUTH_THROTTLE_RATE's default, which these servers keep.

CREATE_OWNERS = f"""
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from projects.models import Project

tomorrow = timezone.localdate() + timedelta(days=1)
for index in range({OWNERS}):
    owner = User.objects.create_user(username=f"owner{{index}}", email=f"owner{{index}}@example.com", password=None)
    Project.objects.create(owner=owner, name=f"project{{index}}", expiration_date=tomorrow)
"""

ENQUEUE_REMINDER_RUNS = f"""
from django_q.tasks import async_task

for _ in range({REMINDER_RUNS}):
    async_task("projects.tasks.expiration_reminders_run")
"""


def test_two_instances_and_two_workers_share_one_database_and_one_redis(postgres, redis_url, start_server, mail_sink):
    shared = {"REDIS_URL": redis_url, "CACHE_URL": redis_url, "EMAIL_URL": mail_sink.url, "QUEUE_WORKERS": 2}
    first = start_server(postgres, workers=1, **shared)
    second = start_server(postgres, workers=1, share=first, **shared)
    instances = [first, second]

    # Every registration's welcome mail exactly once, whichever instance took it and whichever worker sent it.
    usernames = [f"member{index}" for index in range(REGISTRATIONS)]
    for index, username in enumerate(usernames):
        register(instances[index % 2].port, username)
    mail_sink.wait_for(REGISTRATIONS, subject=WELCOME, timeout=60)

    # A refresh token works on either instance; blacklisted on one, it is refused on the other.
    pair = login(first.port, usernames[0])
    rotated = request(second.port, "POST", "/auth/token/refresh", data={"refresh": pair["refresh"]})
    assert rotated.status == 200, rotated.text
    reused_elsewhere = request(first.port, "POST", "/auth/token/refresh", data={"refresh": pair["refresh"]})
    logout = request(first.port, "POST", "/auth/logout", data={"refresh": rotated.json()["refresh"]})
    assert logout.status == 204, logout.text
    after_logout = request(second.port, "POST", "/auth/token/refresh", data={"refresh": rotated.json()["refresh"]})
    assert (reused_elsewhere.status, after_logout.status) == (401, 401)

    # The login throttle counts across both instances: alone, each would let ten wrong passwords through. The owner's
    # client, which logged in on one instance before, still logs in on the other; a client without its cookie does not.
    right = {"username": usernames[1], "password": PASSWORD}
    wrong = {"username": usernames[1], "password": PASSWORD + "-wrong"}
    owners_device = device_cookie(request(first.port, "POST", "/auth/token", data=right))
    attempts = [request(instances[index % 2].port, "POST", "/auth/token", data=wrong) for index in range(WRONG_LOGINS)]
    throttled_by = Counter(index % 2 for index, result in enumerate(attempts) if result.status == 429)
    owner_after = request(second.port, "POST", "/auth/token", data=right, cookie=owners_device).status
    without_cookie_after = request(first.port, "POST", "/auth/token", data=right).status

    # Reminders for 50 projects, with twelve reminder runs spread over the two workers at once: each sent once.
    first.manage("shell", "-c", CREATE_OWNERS)
    started = time.monotonic()
    second.manage("shell", "-c", ENQUEUE_REMINDER_RUNS)
    mail_sink.wait_for(OWNERS, subject=REMINDER, timeout=90)
    reminders_seconds = time.monotonic() - started
    time.sleep(3)  # Room for a duplicate to show up.

    welcomes = Counter(address for message in mail_sink.messages(WELCOME) for address in message.recipients)
    reminders = Counter(address for message in mail_sink.messages(REMINDER) for address in message.recipients)
    runs_per_worker = [
        worker.log_text().count("Processed 'projects.tasks.expiration_reminders_run'")
        for server in instances
        for worker in server.workers
    ]
    report(
        "two instances, two workers, one PostgreSQL, one Redis",
        welcome_mails=sum(welcomes.values()),
        wrong_logins=dict(Counter(result.status for result in attempts)),
        throttled_by_instance=dict(throttled_by),
        owner_with_device_cookie_after=owner_after,
        right_password_without_cookie_after=without_cookie_after,
        reminder_mails=sum(reminders.values()),
        seconds_until_all_reminders=round(reminders_seconds, 1),
        reminder_runs_per_worker=runs_per_worker,
    )
    assert welcomes == {f"{username}@example.com": 1 for username in usernames}
    assert sum(throttled_by.values()) >= WRONG_LOGINS - ALLOWED_PER_MINUTE
    assert set(throttled_by) == {0, 1}, "both instances must refuse once the shared count is reached"
    assert (owner_after, without_cookie_after) == (200, 429)
    assert reminders == {f"owner{index}@example.com": 1 for index in range(OWNERS)}
    assert all(runs_per_worker), f"each worker should have taken part: {runs_per_worker}"
    # /health reads the queue in Redis: nothing waits once the work is done.
    assert request(second.port, "GET", "/health").json()["queue"] == {
        "status": "ok",
        "queued": 0,
        "oldest_seconds": 0.0,
    }
