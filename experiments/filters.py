from datetime import UTC

from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from accounts.models import MAX_ID
from common.filters import FilterSet, StrictOrderingFilter
from experiments.models import (
    RUN_TAG_KEY_MAX_LENGTH,
    RUN_TAG_VALUE_MAX_LENGTH,
    Experiment,
    ExperimentQuerySet,
    ExperimentStatus,
    RunTag,
)
from experiments.selectors import latest_metric_value, parameter_text
from experiments.validators import TAG_MAX_LENGTH

# A tag's key and value at their longest, with the `:` between.
RUN_TAG_FILTER_MAX_LENGTH = RUN_TAG_KEY_MAX_LENGTH + 1 + RUN_TAG_VALUE_MAX_LENGTH
KEYED_ORDER = {"metrics.": latest_metric_value, "params.": parameter_text}


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
    run_tag = filters.CharFilter(
        label="MLflow tag",
        method="filter_run_tag",
        max_length=RUN_TAG_FILTER_MAX_LENGTH,
        help_text="Experiments carrying this key/value tag, as MLflow's client sets them: `key:value`, or `key` for "
        "any value (the first `:` separates them). Not the plain labels of `tag`.",
    )
    search = filters.CharFilter(
        label="Search",
        method="filter_search",
        help_text="Case-insensitive text searched for in the name and the description.",
    )

    class Meta:
        model = Experiment
        fields = ["status", "tag", "run_tag", "project", "mine", "created_after", "created_before", "search"]

    def filter_tag(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        return queryset.with_tag(value)

    def filter_run_tag(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        key, separator, tag_value = value.partition(":")
        tags = RunTag.objects.filter(experiment_id=OuterRef("pk"), key=key)
        return queryset.filter(Exists(tags.filter(value=tag_value) if separator else tags))

    def filter_search(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_mine(self, queryset: ExperimentQuerySet, name: str, value: str) -> ExperimentQuerySet:
        mine = Q(owner=self.request.user)
        return queryset.filter(mine) if value == "true" else queryset.exclude(mine)


class ExperimentOrderingFilter(StrictOrderingFilter):
    """The list's `?ordering=` over the view's fields and, as in MLflow's search, `metrics.<key>` (a metric's latest
    value) and `params.<key>` (a parameter's value as text); experiments without the value come last either way."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        keyed = {term for term in fields if term.removeprefix("-").startswith(tuple(KEYED_ORDER))}
        super().remove_invalid_fields(queryset, [term for term in fields if term not in keyed], view, request)
        return fields

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        annotations, terms = {}, []
        for index, term in enumerate(ordering):
            name = term.removeprefix("-")
            prefix = next((prefix for prefix in KEYED_ORDER if name.startswith(prefix)), None)
            if prefix is None:
                expression = F(name)
            else:
                annotations[f"order_{index}"] = KEYED_ORDER[prefix](name.removeprefix(prefix))
                expression = F(f"order_{index}")
            terms.append(expression.desc(nulls_last=True) if term.startswith("-") else expression.asc(nulls_last=True))
        return queryset.annotate(**annotations).order_by(*terms)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] += " Also `metrics.<key>` and `params.<key>`, experiments without it last."
            fields = "|".join(getattr(view, "ordering_fields", []))
            # A key holds anything but the comma that separates the terms.
            pattern = f"^-?({fields}|metrics\\.[^,]+|params\\.[^,]+)$"
            parameter["schema"]["items"] = {"type": "string", "pattern": pattern}
        return parameters
