"""The expiration reminders as a task of the worker, and the schedule that runs it."""

from django.conf import settings
from django.db import router
from django_q.models import Schedule

from projects.services import membership_send_expiry_reminders, project_send_expiration_reminders

REMINDER_SCHEDULE = "expiration reminders"
REMINDER_TASK = "projects.tasks.expiration_reminders_run"


def expiration_reminders_run() -> str:
    """One reminder run, as `send_expiration_reminders` does it; what it queued becomes the task's result."""
    projects = project_send_expiration_reminders()
    memberships = membership_send_expiry_reminders()
    return (
        f"{projects.recipients} owner(s) about {projects.items} project(s), "
        f"{memberships.recipients} member(s) about {memberships.items} membership(s)"
    )


def reminder_schedule_ensure(*, using: str = "default") -> Schedule | None:
    """Create the reminder schedule, or bring its interval in line with REMINDER_INTERVAL_MINUTES; idempotent.

    `migrate` calls this (post_migrate), so every way of starting the service has the schedule without a step of its
    own. An interval of 0 or less removes it (for deployments that run `send_expiration_reminders` from cron only).
    """
    if not router.allow_migrate_model(using, Schedule):
        return None
    schedules = Schedule.objects.using(using).filter(name=REMINDER_SCHEDULE)
    minutes = settings.REMINDER_INTERVAL_MINUTES
    if minutes <= 0:
        schedules.delete()
        return None
    current = schedules.order_by("id").first()
    if current is None:
        return Schedule.objects.db_manager(using).create(
            name=REMINDER_SCHEDULE, func=REMINDER_TASK, schedule_type=Schedule.MINUTES, minutes=minutes, repeats=-1
        )
    schedules.exclude(pk=current.pk).delete()
    if (current.func, current.schedule_type, current.minutes, current.repeats) != (
        REMINDER_TASK,
        Schedule.MINUTES,
        minutes,
        -1,
    ):
        current.func, current.schedule_type, current.minutes, current.repeats = (
            REMINDER_TASK,
            Schedule.MINUTES,
            minutes,
            -1,
        )
        current.save(using=using)
    return current
