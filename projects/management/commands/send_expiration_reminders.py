from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.services import project_send_expiration_reminders


class Command(BaseCommand):
    help = (
        "E-mail each owner, once per project and expiration date, about projects that expire within N days or have "
        "expired. Safe to run from cron every few minutes, also twice at once."
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
        summary = project_send_expiration_reminders(days=days, dry_run=dry_run)
        verb = "Would remind" if dry_run else "Reminded"
        for email, names in summary.reminded:
            self.stdout.write(f"{email}: {', '.join(names)}")
        self.stdout.write(f"{verb} {summary.owners} owner(s) about {summary.projects} project(s).")
        if summary.failed_owners:
            raise CommandError(
                f"Could not send to {len(summary.failed_owners)} owner(s): {', '.join(summary.failed_owners)}. "
                "Their projects will be reminded on the next run."
            )
