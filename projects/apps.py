from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reminder_schedule(sender, using, **kwargs):
    from projects.tasks import reminder_schedule_ensure

    reminder_schedule_ensure(using=using)


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self):
        # After every `migrate`, the reminder schedule exists with the configured interval.
        post_migrate.connect(_ensure_reminder_schedule, sender=self, dispatch_uid="projects.reminder_schedule")
