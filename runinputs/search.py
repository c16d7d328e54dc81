"""The dataset clauses of the search grammar of runs (`dataset.name = 'train'`), which experiments.search cannot build
itself: the inputs stand on this floor, above it."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from experiments.search.comparisons import string_q
from experiments.search.grammar import LIST_COMPARATORS, STRING_COMPARATORS, Clause
from runinputs.models import CONTEXT_TAG, DatasetInput

DATASET_FIELDS = {"name": "dataset__name", "digest": "dataset__digest", "context": "_context"}


def dataset_q(clause: Clause) -> Q:
    """Runs with a dataset input whose name, digest or context (its `mlflow.data.context` tag) matches."""
    if clause.key not in DATASET_FIELDS:
        raise ValidationError(f"Invalid dataset key {clause.key!r}: one of {', '.join(DATASET_FIELDS)}.")
    if clause.comparator not in STRING_COMPARATORS | LIST_COMPARATORS:
        raise ValidationError(f"Invalid comparator {clause.comparator!r} for dataset {clause.key!r}.")
    inputs = DatasetInput.objects.filter(run=OuterRef("pk")).alias(
        _context=Cast(KeyTextTransform(CONTEXT_TAG, "tags"), output_field=TextField())
    )
    return Exists(inputs.filter(string_q(DATASET_FIELDS[clause.key], clause)))
