"""Admin pages as adapters: saves and deletes go through the app's services, as the API's ViewSets do
(common.viewsets), so the admin skips no rule."""

from django.contrib import admin
from django.db import models, transaction


class ServiceAdminMixin:
    """Saves through `service_create` and `service_update` with the fields the form changed (among `editable_fields`),
    and deletes, one object or the changelist's selection alike, through `service_destroy`."""

    editable_fields: frozenset[str] | tuple[str, ...] = ()

    def service_create(self, request, obj: models.Model, changed: dict) -> None:
        raise NotImplementedError

    def service_update(self, request, obj: models.Model, changed: dict) -> None:
        raise NotImplementedError

    def service_destroy(self, request, obj: models.Model) -> None:
        raise NotImplementedError

    def changed_fields(self, obj: models.Model, form) -> dict:
        # The form has already set every field on `obj`; the service validates and saves it.
        return {name: getattr(obj, name) for name in form.changed_data if name in self.editable_fields}

    def save_model(self, request, obj, form, change):
        changed = self.changed_fields(obj, form)
        if change:
            self.service_update(request, obj, changed)
        else:
            self.service_create(request, obj, changed)

    def delete_model(self, request, obj):
        self.service_destroy(request, obj)

    def delete_queryset(self, request, queryset):
        # The "delete selected" action, one object at a time as the API deletes, and all or none.
        with transaction.atomic():
            for obj in queryset:
                self.service_destroy(request, obj)


class ReadOnlyInline(admin.TabularInline):
    """Rows of a parent shown for reading: each is changed on its own page, or not in the admin at all."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False
