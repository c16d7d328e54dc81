from django.db import models

from projects.models import Project

NAME_MAX_LENGTH = 500
DIGEST_MAX_LENGTH = 36
SOURCE_TYPE_MAX_LENGTH = 36
INPUT_TAG_KEY_MAX_LENGTH = 255
INPUT_TAG_VALUE_MAX_LENGTH = 500
CONTEXT_TAG = "mlflow.data.context"


class Dataset(models.Model):
    """A dataset that runs of a project used (MLflow's Dataset), stored once per project by its name and digest."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    digest = models.CharField(max_length=DIGEST_MAX_LENGTH)
    source_type = models.CharField(max_length=SOURCE_TYPE_MAX_LENGTH)
    source = models.TextField()
    schema = models.TextField(blank=True)
    profile = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name", "digest"],
                name="dataset_unique_per_project",
                violation_error_message="This project already has a dataset of this name and digest.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest})"


class DatasetInput(models.Model):
    """A run's use of a dataset, with MLflow's input tags (`mlflow.data.context`: training, evaluation, ...)."""

    run = models.ForeignKey("experiments.Experiment", on_delete=models.CASCADE, related_name="dataset_inputs")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="inputs")
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "dataset"],
                name="datasetinput_unique",
                violation_error_message="This dataset is already an input of the run.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} in {self.run_id}"
