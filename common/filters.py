import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` over the fields a view declares in `ordering_fields`; anything else answers 400.

    REST framework drops unknown terms silently, which hides typos and probes for fields such as `owner__password`.
    The primary key is appended as a tie-breaker, so that pages of a list never overlap or skip rows.
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [item[0] for item in self.get_valid_fields(queryset, view, {"request": request})]
        # One leading `-` reverses; `--name` is no field (and would reach the database as a FieldError).
        invalid = [term for term in fields if term.removeprefix("-") not in valid]
        if invalid:
            raise ValidationError(
                {self.ordering_param: [f"Unknown ordering field {', '.join(invalid)}. Allowed: {', '.join(valid)}."]}
            )
        return fields

    def is_asked_for(self, request, view) -> bool:
        return self.ordering_param in request.query_params

    def get_ordering(self, request, queryset, view):
        if request.query_params.get(self.ordering_param) == "":
            raise ValidationError(
                {self.ordering_param: ["Name at least one field to sort by, or leave the parameter out."]}
            )
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("pk")
        return ordering

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = list(getattr(view, "ordering_fields", None) or [])
        for parameter in parameters:
            parameter["description"] = (
                f"Sort by one or more of: {', '.join(fields)} (comma-separated; a leading `-` reverses)."
            )
            parameter["schema"] = {
                "type": "array",
                "items": {"type": "string", "enum": [term for field in fields for term in (field, f"-{field}")]},
                "minItems": 1,
            }
            parameter["style"], parameter["explode"] = "form", False
        return parameters


class ListFilterBackend(DjangoFilterBackend):
    """django-filter's backend, applied to lists only.

    REST framework also runs filter backends when it looks up one object, so `GET /projects/5/?role=viewer` would
    answer 404 for a project that exists, instead of its content or the 403 the caller is owed. A ViewSet names its
    listing actions in `list_actions` (default: `list`).
    """

    def is_asked_for(self, request, view) -> bool:
        """Whether the request names any of the view's filters (a FilterSet of ours says; any other is assumed to)."""
        filterset_class = getattr(view, "filterset_class", None)
        if isinstance(filterset_class, type) and issubclass(filterset_class, FilterSet):
            return filterset_class.is_asked_for(request.query_params)
        return True

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) not in getattr(view, "list_actions", {"list"}):
            return queryset
        if not self.is_asked_for(request, view):
            return queryset
        return super().filter_queryset(request, queryset, view)


def filtering_asked_for(request, view) -> bool:
    """Whether any of the view's filter backends would change its list for this request (a backend that cannot say is
    assumed to)."""
    return any(
        not hasattr(backend, "is_asked_for") or backend().is_asked_for(request, view)
        for backend in view.filter_backends
    )


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, answering 400 to a parameter that is present but empty.

    django-filter ignores `?created_before=` as if it were absent; an empty date, choice or id is not a valid value,
    and a client that sends one should hear so. Text filters (`search`, `tag`) accept the empty string. Nor may a
    comma-separated list hold an empty item (`?status=,` or `?status=draft,`).
    """

    def get_form_class(self):
        # django-filter builds the form class anew for every request; its fields depend on the FilterSet's declared
        # filters alone (none of ours takes a queryset from the request), so one class per FilterSet serves them all.
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    @classmethod
    def is_asked_for(cls, data) -> bool:
        """Whether the query parameters `data` hold a value, even an empty one, for any of the filters.

        When none does, every filter would leave the list as it is, so the list skips building the FilterSet and its
        form, a plain list's largest cost after its query. Each form field's widget says which parameters it
        reads, so that a filter of several parameters (a range's `_min` and `_max`) counts too.
        """
        fields = cls.__dict__.get("_form_fields")
        if fields is None:
            fields = cls(queryset=cls._meta.model._default_manager.none()).get_form_class().base_fields
            cls._form_fields = fields
        return not all(field.widget.value_omitted_from_data(data, {}, name) for name, field in fields.items())

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, declared in self.filters.items():
            value = self.data.get(name)
            if value == "" and not isinstance(declared, django_filters.CharFilter):
                self.form.add_error(name, "This value may not be empty.")
                valid = False
            elif value and isinstance(declared, django_filters.filters.BaseCSVFilter) and "" in value.split(","):
                self.form.add_error(name, "An item of this comma-separated list is empty.")
                valid = False
        return valid
