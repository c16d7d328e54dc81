from django_filters import rest_framework as filters

from accounts.models import MAX_ID
from common.filters import FilterSet
from experiments.filters import IdFilter
from modelregistry.models import NAME_MAX_LENGTH, ModelStage, ModelVersion, RegisteredModel


class RegisteredModelFilterSet(FilterSet):
    """Filters of the registered model lists; an invalid value answers 400 rather than an empty list."""

    project = IdFilter(
        field_name="project_id",
        min_value=1,
        max_value=MAX_ID,
        help_text="Models of this project; a project you cannot see lists nothing, as it has nothing for you.",
    )
    name = filters.CharFilter(max_length=NAME_MAX_LENGTH, help_text="Models of exactly this name (case-sensitive).")
    search = filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Case-insensitive text searched for in the name."
    )

    class Meta:
        model = RegisteredModel
        fields = ["project", "name", "search"]


class ModelVersionFilterSet(FilterSet):
    """Filters of the model version list."""

    registered_model = IdFilter(
        field_name="registered_model_id", min_value=1, max_value=MAX_ID, help_text="Versions of this registered model."
    )
    project = IdFilter(
        field_name="registered_model__project_id",
        min_value=1,
        max_value=MAX_ID,
        help_text="Versions of the models of this project.",
    )
    stage = filters.ChoiceFilter(choices=ModelStage.choices, help_text="Versions in this stage.")
    alias = filters.CharFilter(
        field_name="aliases__alias", max_length=255, help_text="The version this alias points at (one per model)."
    )

    class Meta:
        model = ModelVersion
        fields = ["registered_model", "project", "stage", "alias"]
