import django_filters
from django.db.models import Q

from common.filters import FilterSet
from projects.models import Project, ProjectRole


class RoleInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Several roles, comma-separated; each must be a known role."""


class ProjectFilterSet(FilterSet):
    """Filters of the project list; bad values answer 400."""

    expired = django_filters.ChoiceFilter(
        label="Expired",
        choices=[("true", "true"), ("false", "false")],
        method="filter_expired",
        help_text="Expired (`true`: the expiration date is before today) or not (`false`).",
    )
    expires_before = django_filters.DateFilter(
        field_name="expiration_date", lookup_expr="lt", help_text="Expiring before this date (YYYY-MM-DD), exclusive."
    )
    expires_after = django_filters.DateFilter(
        field_name="expiration_date", lookup_expr="gt", help_text="Expiring after this date (YYYY-MM-DD), exclusive."
    )
    search = django_filters.CharFilter(
        label="Search", method="filter_search", help_text="Case-insensitive, in name and description."
    )
    role = RoleInFilter(
        label="Your role",
        field_name="role",
        choices=ProjectRole.choices,
        help_text="Your role in the project, one or more comma-separated: `?role=owner,maintainer`.",
    )

    class Meta:
        model = Project
        fields = ["expired", "expires_before", "expires_after", "search", "role"]

    def filter_expired(self, queryset, name, value):
        return queryset.expired() if value == "true" else queryset.unexpired()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
