"""The reminder run as a scheduled task of the worker."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.tasks import async_task

from projects.models import Project
from projects.tasks import REMINDER_SCHEDULE, reminder_schedule_ensure
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _schedules() -> list[tuple]:
    return list(
        Schedule.objects.filter(name=REMINDER_SCHEDULE).values_list("func", "schedule_type", "minutes", "repeats")
    )


def test_migrate_creates_the_reminder_schedule_every_ten_minutes():
    # The test database was made by `migrate`, which creates the schedule.
    assert _schedules() == [("projects.tasks.expiration_reminders_run", Schedule.MINUTES, 10, -1)]


def test_ensuring_the_schedule_again_keeps_one_and_follows_the_setting(settings):
    settings.REMINDER_INTERVAL_MINUTES = 1
    reminder_schedule_ensure()
    reminder_schedule_ensure()
    assert _schedules() == [("projects.tasks.expiration_reminders_run", Schedule.MINUTES, 1, -1)]


def test_a_duplicate_schedule_is_removed():
    Schedule.objects.create(name=REMINDER_SCHEDULE, func="projects.tasks.expiration_reminders_run", minutes=5)
    reminder_schedule_ensure()
    assert _schedules() == [("projects.tasks.expiration_reminders_run", Schedule.MINUTES, 10, -1)]


def test_an_interval_of_zero_removes_the_schedule(settings):
    settings.REMINDER_INTERVAL_MINUTES = 0
    reminder_schedule_ensure()
    assert _schedules() == []


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_reminds_each_owner_once(user, other_user):
    tomorrow = timezone.localdate() + timedelta(days=1)
    ProjectFactory.create_batch(2, owner=user, expiration_date=tomorrow)
    ProjectFactory(owner=other_user, expiration_date=tomorrow)

    async_task("projects.tasks.expiration_reminders_run")
    async_task("projects.tasks.expiration_reminders_run")

    assert sorted(message.to[0] for message in mail.outbox) == sorted([user.email, other_user.email])
    results = list(
        Success.objects.filter(func="projects.tasks.expiration_reminders_run").values_list("result", flat=True)
    )
    assert sorted(results) == [
        "0 owner(s) about 0 project(s), 0 member(s) about 0 membership(s)",
        "2 owner(s) about 3 project(s), 0 member(s) about 0 membership(s)",
    ]
    assert set(Project.objects.values_list("reminded_for_date", flat=True)) == {tomorrow}
