"""What a run used: `runs/log-inputs` (datasets, and models whose metrics the run logs) and
`experiments/search-datasets`, on runinputs and loggedmodels; and what a run's answer shows of its inputs and
outputs."""

from loggedmodels import selectors as loggedmodels
from loggedmodels import services as models
from mlflow_api import entities, lookups
from mlflow_api.errors import MlflowError
from mlflow_api.fields import run_id, strings, text
from mlflow_api.logged_models import model_for
from runinputs import selectors as runinputs
from runinputs import services as datasets


def _objects(data, name: str) -> list[dict]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MlflowError(f"Invalid value for parameter '{name}': a list of objects is required.")
    return value


def _dataset(item: dict) -> datasets.DatasetFields:
    dataset = item.get("dataset")
    if not isinstance(dataset, dict):
        raise MlflowError("Each dataset input must hold a 'dataset' object.")
    tags = _objects(item, "tags")
    return datasets.dataset_fields(
        name=dataset.get("name"),
        digest=dataset.get("digest"),
        source_type=dataset.get("source_type"),
        source=dataset.get("source"),
        schema=dataset.get("schema"),
        profile=dataset.get("profile"),
        tags=[(tag.get("key"), tag.get("value", "")) for tag in tags],
    )


def runs_log_inputs(request, data):
    run = lookups.run_for(user=request.user, run_id=run_id(data, checked=True), operation="log")
    fields = [_dataset(item) for item in _objects(data, "datasets")]
    inputs = [model_for(request, text(item, "model_id"), "retrieve") for item in _objects(data, "models")]
    datasets.run_log_datasets(actor=request.user, run=run, datasets=fields)
    if inputs:
        models.run_log_model_inputs(actor=request.user, run=run, models=inputs)


def experiments_search_datasets(request, data):
    experiment_ids = strings(data, "experiment_ids")
    projects = [
        lookups.project_for(user=request.user, experiment_id=eid, operation="retrieve") for eid in experiment_ids
    ]
    summaries = runinputs.dataset_summaries(project_ids=[p.pk for p in projects if p.pk is not None])
    return {
        "dataset_summaries": [
            {"experiment_id": str(project_id), "name": name, "digest": digest, "context": context}
            for project_id, name, digest, context in summaries
        ]
    }


def run_extras(run_ids: list[int]) -> dict[int, tuple[list, dict]]:
    """For each run, what run_json shows beside its data: (outputs, inputs), read for all the runs at once."""
    outputs = loggedmodels.run_outputs(run_ids=run_ids)
    model_inputs = loggedmodels.run_model_inputs(run_ids=run_ids)
    dataset_inputs = runinputs.run_dataset_inputs(run_ids=run_ids)
    return {
        pk: (outputs.get(pk), entities.run_inputs_json(dataset_inputs.get(pk), model_inputs.get(pk))) for pk in run_ids
    }
