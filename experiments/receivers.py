"""How experiments follow what happens below them, to accounts and projects, which may not import this app."""

from django.dispatch import receiver

from accounts.signals import user_deleting
from experiments.models import Experiment
from projects.signals import project_stage_changed


@receiver(user_deleting, dispatch_uid="experiments-lock-before-user-delete")
def lock_the_users_experiments(sender, *, user, **kwargs) -> None:
    """A batch of metrics being written into one of them finishes before their history goes: the row locks each batch
    takes (experiment_lock), on all of the user's experiments at once."""
    list(Experiment.objects.filter(owner=user).order_by().select_for_update().values_list("pk", flat=True))


@receiver(project_stage_changed, dispatch_uid="experiments-follow-their-project")
def follow_the_projects_stage(sender, *, project, stage, **kwargs) -> None:
    """A project deleted by a tracking client takes its experiments with it, and a restore brings them back."""
    Experiment.objects.filter(project=project).update(lifecycle_stage=stage)
