"""What runs record of their inputs: the datasets they used (MLflow's `log_input`), each stored once per project by
name and digest and linked to the run with its input tags. The `log` operation on the run (EXPERIMENT_ACCESS)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from experiments import services as experiments
from experiments.models import Experiment
from runinputs.models import (
    DIGEST_MAX_LENGTH,
    INPUT_TAG_KEY_MAX_LENGTH,
    INPUT_TAG_VALUE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    SOURCE_TYPE_MAX_LENGTH,
    Dataset,
    DatasetInput,
)

INPUTS_MAX_DATASETS = 1000


@dataclass(frozen=True)
class DatasetFields:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str = ""
    profile: str = ""
    tags: tuple[tuple[str, str], ...] = ()


def _text(value, what: str, *, max_length: int | None = None, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise ValidationError(f"A dataset needs a {what}.")
        return ""
    if not isinstance(value, str) or (max_length is not None and len(value) > max_length):
        limit = f" of at most {max_length} characters" if max_length is not None else ""
        raise ValidationError(f"The dataset's {what} must be a string{limit}.")
    return value


def dataset_fields(*, name, digest, source_type, source, schema=None, profile=None, tags=()) -> DatasetFields:
    """A dataset as a client describes it, checked against MLflow's limits."""
    checked_tags = []
    for key, value in tags:
        _text(key, "input tag key", max_length=INPUT_TAG_KEY_MAX_LENGTH)
        _text(value, "input tag value", max_length=INPUT_TAG_VALUE_MAX_LENGTH, required=False)
        checked_tags.append((key, value or ""))
    return DatasetFields(
        name=_text(name, "name", max_length=NAME_MAX_LENGTH),
        digest=_text(digest, "digest", max_length=DIGEST_MAX_LENGTH),
        source_type=_text(source_type, "source type", max_length=SOURCE_TYPE_MAX_LENGTH),
        source=_text(source, "source"),
        schema=_text(schema, "schema", required=False),
        profile=_text(profile, "profile", required=False),
        tags=tuple(checked_tags),
    )


def _dataset(run: Experiment, fields: DatasetFields) -> Dataset:
    found = Dataset.objects.filter(project_id=run.project_id, name=fields.name, digest=fields.digest).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                project_id=run.project_id,
                name=fields.name,
                digest=fields.digest,
                source_type=fields.source_type,
                source=fields.source,
                schema=fields.schema,
                profile=fields.profile,
            )
    except IntegrityError:  # Stored by a concurrent request.
        return Dataset.objects.get(project_id=run.project_id, name=fields.name, digest=fields.digest)


def run_log_datasets(*, actor: User, run: Experiment, datasets: list[DatasetFields]) -> None:
    """Link these datasets to the run, storing each in the run's project unless it is there; a dataset logged again
    takes the new input tags beside its old ones."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    if len(datasets) > INPUTS_MAX_DATASETS:
        raise ValidationError(f"A run may log at most {INPUTS_MAX_DATASETS} datasets at once.")
    if datasets and run.project_id is None:
        raise ValidationError("A run outside any experiment cannot record datasets.")
    for fields in datasets:
        dataset = _dataset(run, fields)
        link, made = DatasetInput.objects.get_or_create(run=run, dataset=dataset, defaults={"tags": dict(fields.tags)})
        if not made and any(link.tags.get(key) != value for key, value in fields.tags):
            link.tags = {**link.tags, **dict(fields.tags)}
            link.save(update_fields=["tags"])
