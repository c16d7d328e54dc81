from django.contrib import admin

from loggedmodels.models import LoggedModel


@admin.register(LoggedModel)
class LoggedModelAdmin(admin.ModelAdmin):
    """Logged models, read-only: MLflow's client makes and changes them."""

    list_display = ["model_id", "name", "project", "status", "lifecycle_stage", "created_at"]
    list_filter = ["status", "lifecycle_stage"]
    search_fields = ["model_id", "name"]
    list_select_related = ["project"]
    readonly_fields = [field.name for field in LoggedModel._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
