"""Which query strings a FilterSet counts as asking for a filter; a list that asks for none is not filtered at all."""

import django_filters
import pytest
from django.http import QueryDict

from common.filters import FilterSet
from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment


class RangeFilterSet(FilterSet):
    started = django_filters.DateTimeFromToRangeFilter(field_name="started_at")

    class Meta:
        model = Experiment
        fields = ["started"]


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        ("", False),
        ("limit=20&offset=40&ordering=-id", False),
        ("statuses=draft", False),
        ("status=draft", True),
        ("status=", True),
        ("search=", True),
        ("limit=5&mine=true", True),
        ("created_before=2026-01-01", True),
    ],
)
def test_experiment_filters_asked_for(query, asked):
    assert ExperimentFilterSet.is_asked_for(QueryDict(query)) is asked


@pytest.mark.parametrize(
    ("query", "asked"),
    [("", False), ("started=2026-01-01", False), ("started_after=2026-01-01", True), ("started_before=", True)],
)
def test_a_filter_of_several_parameters_counts_each(query, asked):
    assert RangeFilterSet.is_asked_for(QueryDict(query)) is asked
