from django.apps import AppConfig
from django.db.models.signals import post_delete


class ArtifactsConfig(AppConfig):
    name = "artifacts"
    verbose_name = "Artifacts"

    def ready(self) -> None:
        from artifacts.lifecycle import experiment_deleted
        from experiments.models import Experiment

        post_delete.connect(experiment_deleted, sender=Experiment, dispatch_uid="artifacts.experiment_deleted")
