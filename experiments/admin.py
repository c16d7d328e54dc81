from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from common.admin import ReadOnlyInline, ServiceAdminMixin
from experiments import services
from experiments.models import EDITABLE_FIELDS, Experiment, ExperimentStatus
from projects.admin import ProjectAdmin


class ExperimentAdminForm(forms.ModelForm):
    """The admin's form, which refuses what the services would refuse (a status move, a project where the staff member
    may not add experiments, a change to a deleted experiment) beside the fields. The owner is not a field: a new
    experiment is the staff member's own, as it is for a client of the API."""

    actor = None  # The staff member, set by ExperimentAdmin.get_form.

    class Meta:
        model = Experiment
        fields = EDITABLE_FIELDS

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None:
            try:
                self.instance.require_active()
            except ValidationError as exc:
                self.add_error(None, exc)
        if "project" in self.changed_data:
            try:
                services.experiment_project_check(
                    actor=self.actor,
                    project=cleaned_data.get("project"),
                    experiment=self.instance if self.instance.pk is not None else None,
                )
            except PermissionDenied as exc:
                self.add_error("project", str(exc))
            except ValidationError as exc:
                self.add_error(None, exc)
        target = cleaned_data.get("status")
        if target and "status" in self.changed_data:
            source = self.initial.get("status", ExperimentStatus.DRAFT)
            try:
                services.experiment_transition_check(source=source, target=target)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned_data


@admin.register(Experiment)
class ExperimentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Experiments of every user; status changes go through the same service as the API's."""

    form = ExperimentAdminForm
    editable_fields = EDITABLE_FIELDS
    list_display = ["name", "owner", "project", "status", "started_at", "finished_at", "created_at", "updated_at"]
    list_filter = ["status", "created_at", "started_at", "finished_at"]
    search_fields = ["name", "description", "owner__username", "owner__email"]
    list_select_related = ["owner", "project"]
    autocomplete_fields = ["project"]
    date_hierarchy = "created_at"
    readonly_fields = ["owner", "run_uuid", "lifecycle_stage", "latest_results", "created_at", "updated_at"]
    fields = [*ExperimentAdminForm.Meta.fields, *readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    @admin.display(description="results (latest metric values)")
    def latest_results(self, obj: Experiment) -> str:
        return ", ".join(f"{key}={value}" for key, value in obj.results.items()) or "-"

    def changed_fields(self, obj, form):
        changed = super().changed_fields(obj, form)
        changed.setdefault("status", obj.status)
        # The status goes back to the stored one, so that the service checks the move (and stamps the times) as it
        # does for the API.
        obj.status = form.initial.get("status", ExperimentStatus.DRAFT)
        return changed

    def service_create(self, request, obj, changed):
        services.experiment_create(owner=request.user, experiment=obj, **changed)

    def service_update(self, request, obj, changed):
        services.experiment_update(experiment=obj, actor=request.user, **changed)

    def service_destroy(self, request, obj):
        services.experiment_delete(experiment=obj, actor=request.user)


class ExperimentInline(ReadOnlyInline):
    """The project's experiments, for reading; they are changed on their own pages."""

    model = Experiment
    fields = ["name", "status", "owner", "created_at"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


ProjectAdmin.inlines = [*ProjectAdmin.inlines, ExperimentInline]
