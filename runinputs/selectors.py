"""Reads of run inputs that other code uses."""

from django.db.models import QuerySet

from runinputs.models import CONTEXT_TAG, Dataset, DatasetInput


def run_dataset_inputs(*, run_ids: list[int]) -> dict[int, list[DatasetInput]]:
    """The dataset inputs of each of these runs, with their datasets, in the order they were logged."""
    inputs: dict[int, list[DatasetInput]] = {}
    for link in DatasetInput.objects.filter(run_id__in=run_ids).select_related("dataset").order_by("pk"):
        inputs.setdefault(link.run_id, []).append(link)
    return inputs


def experiment_dataset_inputs(*, experiment_id: int) -> QuerySet[DatasetInput]:
    """The dataset inputs of one experiment (run), with their datasets, in the order they were logged."""
    return DatasetInput.objects.filter(run_id=experiment_id).select_related("dataset").order_by("pk")


def dataset_summaries(*, project_ids: list[int]) -> list[tuple[int, str, str, str]]:
    """(project id, name, digest, context) of every dataset the runs of these projects used, once each."""
    rows = (
        DatasetInput.objects.filter(dataset__project_id__in=project_ids)
        .order_by("dataset__project_id", "dataset__name", "dataset__digest", "pk")
        .values_list("dataset__project_id", "dataset__name", "dataset__digest", "tags")
    )
    summaries = {}
    for project_id, name, digest, tags in rows:
        summaries.setdefault((project_id, name, digest, tags.get(CONTEXT_TAG, "")), None)
    return list(summaries)


__all__ = ["Dataset", "dataset_summaries", "experiment_dataset_inputs", "run_dataset_inputs"]
