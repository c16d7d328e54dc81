from datetime import UTC

from django import forms
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from accounts.models import MAX_ID
from common.filters import FilterSet
from experiments.models import Experiment, ExperimentQuerySet, ExperimentStatus
from experiments.validators import TAG_MAX_LENGTH


class StatusInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """Several statuses, comma-separated; each must be a known status."""


class BoundedIsoDateTimeField(filters.IsoDateTimeFilter.field_class):
    """An ISO 8601 date-time or date that the database can compare, so that `0001-01-01T00:00+05:00` is a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            # In UTC: PostgreSQL refuses offsets beyond 15:59 that ISO 8601 (and Python) allow, such as -20:28.
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Date-time out of range.", code="overflow") from exc


class BoundedIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A positive 64-bit id."""


class ExperimentFilterSet(FilterSet):
    """Filters of the experiment list; an invalid value answers 400 rather than an empty list."""

    status = StatusInFilter(
        choices=ExperimentStatus.choices, help_text="One or more statuses, comma-separated: `?status=draft,running`."
    )
    tag = filters.CharFilter(
        label="Tag", method="filter_tag", max_length=TAG_MAX_LENGTH, help_text="Experiments carrying exactly this tag."
    )
    created_after = BoundedIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 date-time or date."
    )
    created_before = BoundedIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="Created at or before this ISO 8601 date-time or date."
    )
    project = IdFilter(
        field_name="project_id",
        min_value=1,
        max_value=MAX_ID,
        help_text="Experiments in this project; a project you cannot see lists nothing, as it has nothing for you.",
    )
    mine = filters.ChoiceFilter(
        label="Mine",
        choices=[("true", "true"), ("false", "false")],
        method="filter_mine",
        help_text="`true`: only experiments you own; `false`: only others' experiments in projects you can see.",
    )
    search = filters.CharFilter(
        label="Search",
        method="filter_search",
        help_text="Case-insensitive text searched for in the name and the description.",
    )

    class Meta:
        model = Experiment
        fields = ["status", "tag", "project", "mine", "created_after", "created_before", "search"]

    def filter_tag(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        return queryset.with_tag(value)

    def filter_search(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_mine(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        mine = Q(owner=self.request.user)
        return queryset.filter(mine) if value == "true" else queryset.exclude(mine)
