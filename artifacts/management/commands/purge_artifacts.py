import datetime

from django.core.management.base import BaseCommand, CommandError

from artifacts.lifecycle import artifacts_purge_deleted


class Command(BaseCommand):
    help = (
        "Delete the artifacts of experiments that were soft-deleted (MLflow's delete_run, or delete_experiment of "
        "their project) and left unchanged for more than N days, and of folders whose experiment no longer exists, and "
        "uploads of killed workers left in the spool for over a day. "
        "The experiments themselves stay, deleted. Safe to run from cron, also twice at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=30,
            help="Only what was deleted (and left unchanged) more than this many days ago (default 30).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say how many runs' files would go; delete none.")

    def handle(self, *args, older_than_days: int, dry_run: bool, **options):
        if older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        summary = artifacts_purge_deleted(older_than=datetime.timedelta(days=older_than_days), dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Would delete the artifacts of {summary.runs} run(s), and {summary.spooled} spool file(s)."
            )
        else:
            self.stdout.write(
                f"Deleted {summary.files} file(s) of {summary.runs} run(s), and {summary.spooled} spool file(s)."
            )
