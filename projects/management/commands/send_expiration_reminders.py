from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.services import membership_send_expiry_reminders, project_send_expiration_reminders


class Command(BaseCommand):
    help = (
        "E-mail each owner, once per project and expiration date, about projects that expire within N days or have "
        "expired. The mails are queued for the task worker, which also runs this every REMINDER_INTERVAL_MINUTES; "
        "safe to run from cron as well, also twice at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.EXPIRATION_REMINDER_DAYS,
            help=f"Remind of projects expiring within this many days (default {settings.EXPIRATION_REMINDER_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say who would be reminded; send and record nothing."
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        verb = "Would remind" if dry_run else "Reminded"
        projects = project_send_expiration_reminders(days=days, dry_run=dry_run)
        for email, names in projects.reminded:
            self.stdout.write(f"{email}: {', '.join(names)}")
        self.stdout.write(f"{verb} {projects.recipients} owner(s) about {projects.items} project(s).")
        # Members hear once, EXPIRATION_REMINDER_DAYS ahead (whatever --days says), that their access ends.
        memberships = membership_send_expiry_reminders(dry_run=dry_run)
        for email, names in memberships.reminded:
            self.stdout.write(f"{email}: access ends to {', '.join(names)}")
        self.stdout.write(
            f"{verb} {memberships.recipients} member(s) about {memberships.items} expiring membership(s)."
        )
