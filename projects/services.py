import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet

from accounts.models import User
from common.db import set_fields, validated_save
from common.mail import mail_send_on_commit
from common.text import one_line
from projects.access import PROJECT_ACCESS
from projects.models import (
    LifecycleStage,
    Project,
    ProjectMembership,
)
from projects.signals import project_stage_changed

logger = logging.getLogger(__name__)

PROJECT_EDITABLE_FIELDS = ("name", "description", "expiration_date")


def project_create(*, owner: User, project: Project | None = None, **fields) -> Project:
    """Create a project owned by `owner` (the model refuses one that is already expired). `project` is an unsaved one
    to fill and save, as the admin's form builds one; by default a new one is made."""
    project = project or Project()
    project.owner = owner
    return validated_save(set_fields(project, fields, allowed=PROJECT_EDITABLE_FIELDS))


def project_update(*, project: Project, actor: User, **fields) -> Project:
    """Change a project's name, description or expiration date."""
    PROJECT_ACCESS.require(actor, project, "update")
    return validated_save(set_fields(project, fields, allowed=PROJECT_EDITABLE_FIELDS))


def project_delete(*, project: Project, actor: User) -> None:
    """Delete a project; its experiments stay, unlinked (the foreign key sets them to no project)."""
    PROJECT_ACCESS.require(actor, project, "destroy")
    project.delete()


@dataclass
class ReminderSummary:
    """What a reminder run did (or, in a dry run, would do)."""

    recipients: int = 0
    items: int = 0
    # The address of each person reminded (or, in a dry run, to remind) and what they were reminded of.
    reminded: list[tuple[str, list[str]]] = field(default_factory=list)


def _send_reminders(
    *,
    due: list,
    recipient: Callable,
    claim: Callable[[Any], bool],
    release: str,
    subject: str,
    message: Callable[[list], str],
    label: Callable[[Any], str],
    dry_run: bool,
) -> ReminderSummary:
    """Queue one message to each recipient about their due items, each item at most once.

    `claim` records an item as reminded with a conditional update, which is the lock: of two concurrent runs only one
    sees the row change, so only one queues the mail. The worker sends it, retrying; if it still cannot, `release` (the
    dotted path of a function taking the items' ids) re-arms them for a later run.
    """
    by_recipient: dict = defaultdict(list)
    for item in due:
        by_recipient[recipient(item)].append(item)

    summary = ReminderSummary()
    for person, items in by_recipient.items():
        if not dry_run:
            items = [item for item in items if claim(item)]
            if not items:
                continue
            mail_send_on_commit(
                to=[person.email],
                subject=subject,
                body=message(items),
                on_failure=(release, [[item.pk for item in items]]),
            )
        summary.recipients += 1
        summary.items += len(items)
        summary.reminded.append((person.email, [label(item) for item in items]))
    return summary


def _project_reminder_message(projects: list[Project]) -> str:
    lines = []
    for project in projects:
        when = "expired on" if project.is_expired else "expires on"
        lines.append(f"- {one_line(project.name)} {when} {project.expiration_date.isoformat()}")
    return "These projects of yours expire soon or have expired:\n\n" + "\n".join(lines) + "\n"


def _claim(item, *, end: str, reminded: str) -> bool:
    """Record `item` as reminded of its end (its field `end`) in its field `reminded`, unless it already is. A
    conditional update, which is the lock: of concurrent runs only one sees the row change."""
    value = getattr(item, end)
    rows = type(item).objects.filter(pk=item.pk, **{end: value}).exclude(**{reminded: value})
    return bool(rows.update(**{reminded: value}))


def project_release_reminders(project_ids: list[int]) -> None:
    """Re-arm the reminders of these projects (their mail could not be sent), so that a later run sends them."""
    Project.objects.filter(pk__in=project_ids).update(reminded_for_date=None)


def project_send_expiration_reminders(
    *,
    days: int | None = None,
    dry_run: bool = False,
    projects: QuerySet | None = None,
    force: bool = False,
) -> ReminderSummary:
    """E-mail each owner, in one message, about their projects that expire within `days` days or have expired.

    Each project is reminded once per expiration date: the date reminded of is recorded, a new date re-arms it, and a
    second run finds nothing to send. `force` (the admin's "send now") ignores the window and the record. The worker
    sends the mails; one that still fails after its retries re-arms its projects for a later run.
    """
    days = settings.EXPIRATION_REMINDER_DAYS if days is None else days
    due = (projects if projects is not None else Project.objects.all()).filter(
        expiration_date__isnull=False, owner__is_active=True
    )
    if not force:
        due = (due.expired() | due.expiring_within(days)).exclude(reminded_for_date=F("expiration_date"))
    due = list(due.select_related("owner").order_by("owner_id", "expiration_date", "id"))
    if force and not dry_run:
        project_release_reminders([project.pk for project in due])
    return _send_reminders(
        due=due,
        recipient=lambda project: project.owner,
        claim=lambda project: _claim(project, end="expiration_date", reminded="reminded_for_date"),
        release="projects.services.project_release_reminders",
        subject="Registry: projects expiring soon",
        message=_project_reminder_message,
        label=lambda project: one_line(project.name),
        dry_run=dry_run,
    )


def membership_release_reminders(membership_ids: list[int]) -> None:
    """Re-arm the expiry reminders of these memberships (their mail could not be sent)."""
    ProjectMembership.objects.filter(pk__in=membership_ids).update(reminded_for_expiry=None)


def _membership_reminder_message(memberships: list[ProjectMembership]) -> str:
    lines = [f"- {one_line(m.project.name)} ({m.role}) until {m.expires_at.isoformat()}" for m in memberships]
    return "Your access to these projects ends soon:\n\n" + "\n".join(lines) + "\n"


def membership_send_expiry_reminders(*, days: int | None = None, dry_run: bool = False) -> ReminderSummary:
    """E-mail each member, in one message, about their memberships that end within `days` days, once per expiry."""
    days = settings.EXPIRATION_REMINDER_DAYS if days is None else days
    due = (
        ProjectMembership.objects.ending_within(days)
        .filter(user__is_active=True)
        .exclude(reminded_for_expiry=F("expires_at"))
        .select_related("user", "project")
        .order_by("user_id", "expires_at", "id")
    )
    return _send_reminders(
        due=list(due),
        recipient=lambda membership: membership.user,
        claim=lambda membership: _claim(membership, end="expires_at", reminded="reminded_for_expiry"),
        release="projects.services.membership_release_reminders",
        subject="Registry: your project access ends soon",
        message=_membership_reminder_message,
        label=lambda membership: one_line(membership.project.name),
        dry_run=dry_run,
    )


def _project_set_stage(*, project: Project, actor: User, stage: str, operation: str) -> Project:
    PROJECT_ACCESS.require(actor, project, operation)
    with transaction.atomic():
        project.lifecycle_stage = stage
        validated_save(project)
        project_stage_changed.send(sender=Project, project=project, stage=stage)
    return project


def project_soft_delete(*, project: Project, actor: User) -> Project:
    """Mark a project deleted, as tracking clients delete experiments: it and its experiments stay readable, its
    experiments are marked deleted too, and project_restore brings all of them back."""
    return _project_set_stage(project=project, actor=actor, stage=LifecycleStage.DELETED, operation="soft_delete")


def project_restore(*, project: Project, actor: User) -> Project:
    """Undo project_soft_delete: the project and all its experiments become active again."""
    return _project_set_stage(project=project, actor=actor, stage=LifecycleStage.ACTIVE, operation="restore")
