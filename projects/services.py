import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, QuerySet
from django.utils import timezone

from projects.models import Project
from registry.db import validated_save

logger = logging.getLogger(__name__)

PROJECT_EDITABLE_FIELDS = ("name", "description", "expiration_date")


def project_create(*, owner, name: str, description: str = "", expiration_date: datetime.date | None = None) -> Project:
    """Create a project owned by `owner` (the model refuses one that is already expired)."""
    return validated_save(Project(owner=owner, name=name, description=description, expiration_date=expiration_date))


def project_update(*, project: Project, **fields) -> Project:
    """Change a project's name, description or expiration date."""
    unknown = set(fields) - set(PROJECT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"project_update cannot change {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(project, name, value)
    return validated_save(project)


def project_delete(*, project: Project) -> None:
    """Delete a project; its experiments stay, unlinked (the foreign key sets them to no project)."""
    project.delete()


@dataclass
class ReminderSummary:
    """What a reminder run did (or, in a dry run, would do)."""

    owners: int = 0
    projects: int = 0
    failed_owners: list[str] = field(default_factory=list)
    # The address of each owner reminded (or, in a dry run, to remind) and the names of their projects.
    reminded: list[tuple[str, list[str]]] = field(default_factory=list)


def _reminder_message(projects: list[Project]) -> str:
    today = timezone.localdate()
    lines = []
    for project in projects:
        when = "expired on" if project.expiration_date < today else "expires on"
        lines.append(f"- {project.name} {when} {project.expiration_date.isoformat()}")
    return "These projects of yours expire soon or have expired:\n\n" + "\n".join(lines) + "\n"


def _claim(project: Project) -> bool:
    # A conditional update is the lock: of two concurrent runs only one sees its row change, so only one sends.
    return bool(
        Project.objects.filter(pk=project.pk, expiration_date=project.expiration_date)
        .exclude(reminded_for_date=project.expiration_date)
        .update(reminded_for_date=project.expiration_date)
    )


def project_send_expiration_reminders(
    *,
    days: int | None = None,
    dry_run: bool = False,
    projects: QuerySet | None = None,
    force: bool = False,
) -> ReminderSummary:
    """E-mail each owner, in one message, about their projects that expire within `days` days or have expired.

    Each project is reminded once per expiration date: the date reminded of is recorded, a new date re-arms it, and a
    second run finds nothing to send. `force` (the admin's "send now") ignores the window and the record. A failing
    address is logged and skipped, and its projects stay armed for the next run.
    """
    days = settings.EXPIRATION_REMINDER_DAYS if days is None else days
    due = (projects if projects is not None else Project.objects.all()).filter(expiration_date__isnull=False)
    if not force:
        try:
            horizon = timezone.localdate() + datetime.timedelta(days=days)
        except OverflowError:  # A window past the last date there is takes in every date.
            horizon = datetime.date.max
        due = due.filter(expiration_date__lte=horizon).exclude(reminded_for_date=F("expiration_date"))
    by_owner: dict = defaultdict(list)
    for project in due.select_related("owner").order_by("owner_id", "expiration_date", "id"):
        by_owner[project.owner].append(project)

    summary = ReminderSummary()
    for owner, owner_projects in by_owner.items():
        if not dry_run:
            if force:
                Project.objects.filter(pk__in=[p.pk for p in owner_projects]).update(reminded_for_date=None)
            owner_projects = [project for project in owner_projects if _claim(project)]
            if not owner_projects:
                continue
            try:
                send_mail(
                    subject="Registry: projects expiring soon",
                    message=_reminder_message(owner_projects),
                    from_email=None,
                    recipient_list=[owner.email],
                )
            except Exception:
                logger.exception("Could not send the expiration reminder to %s", owner.email)
                Project.objects.filter(pk__in=[p.pk for p in owner_projects]).update(reminded_for_date=None)
                summary.failed_owners.append(owner.email)
                continue
        summary.owners += 1
        summary.projects += len(owner_projects)
        summary.reminded.append((owner.email, [project.name for project in owner_projects]))
    return summary
