import datetime

from django.conf import settings
from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from experiments.models import Experiment
from projects import services
from projects.models import Project, ProjectMembership


class ExpirationFilter(admin.SimpleListFilter):
    """Projects that expire within the reminder window, have expired, or never expire."""

    title = "expiration"
    parameter_name = "expiration"

    def lookups(self, request, model_admin):
        return [
            ("soon", f"Expires within {settings.EXPIRATION_REMINDER_DAYS} days"),
            ("expired", "Expired"),
            ("never", "Never expires"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "soon":
            horizon = today + datetime.timedelta(days=settings.EXPIRATION_REMINDER_DAYS)
            return queryset.filter(expiration_date__gte=today, expiration_date__lte=horizon)
        if self.value() == "expired":
            return queryset.filter(expiration_date__lt=today)
        if self.value() == "never":
            return queryset.filter(Q(expiration_date__isnull=True))
        return queryset


class ExperimentInline(admin.TabularInline):
    """The project's experiments, for reading; they are changed on their own pages."""

    model = Experiment
    fields = ["name", "status", "owner", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


class MembershipInline(admin.TabularInline):
    """The project's members; the model refuses the owner as a member and a second membership of one user."""

    model = ProjectMembership
    fk_name = "project"
    fields = ["user", "role", "expires_at", "added_by", "created_at"]
    readonly_fields = ["added_by", "created_at"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "added_by")


class MembershipExpiryFilter(admin.SimpleListFilter):
    """Memberships that have expired, end within the reminder window, or never end."""

    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("soon", f"Ends within {settings.EXPIRATION_REMINDER_DAYS} days"),
            ("expired", "Expired"),
            ("never", "Never ends"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "soon":
            horizon = now + datetime.timedelta(days=settings.EXPIRATION_REMINDER_DAYS)
            return queryset.filter(expires_at__gt=now, expires_at__lte=horizon)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    """Every membership, to find who has access to what and until when."""

    list_display = ["user", "project", "role", "expires_at", "added_by", "created_at"]
    list_filter = ["role", MembershipExpiryFilter]
    list_select_related = ["user", "project", "added_by"]
    search_fields = ["user__username", "user__email", "project__name"]
    autocomplete_fields = ["user", "project"]
    readonly_fields = ["added_by", "reminded_for_expiry", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects of every user; saves and deletes go through the same services as the API's."""

    list_display = ["name", "owner", "expiration_date", "experiment_count", "created_at"]
    list_filter = [ExpirationFilter, "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "description", "owner__username", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["reminded_for_date", "lifecycle_stage", "created_at", "updated_at"]
    inlines = [MembershipInline, ExperimentInline]
    actions = ["send_reminders_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_experiment_count()

    def get_readonly_fields(self, request, obj=None):
        # A change of owner is a transfer (the previous owner stays on as maintainer): POST /projects/{id}/transfer.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The form has already set every field on `obj` (the owner included); the service validates and saves it.
        changed = {name: getattr(obj, name) for name in form.changed_data if name in services.PROJECT_EDITABLE_FIELDS}
        services.project_update(project=obj, **changed)

    def delete_model(self, request, obj):
        services.project_delete(project=obj)

    @admin.display(ordering="experiment_count", description="experiments")
    def experiment_count(self, project: Project) -> int:
        return project.experiment_count

    @admin.action(description="Send expiration reminders for the selected projects now")
    def send_reminders_now(self, request, queryset):
        summary = services.project_send_expiration_reminders(projects=queryset, force=True)
        # The worker sends the mails; the task pages show each one, and a failed try is retried there.
        self.message_user(request, f"Reminded {summary.recipients} owner(s) about {summary.items} project(s).")

    def save_formset(self, request, form, formset, change):
        for membership in formset.save(commit=False):
            if isinstance(membership, ProjectMembership) and membership.added_by_id is None:
                membership.added_by = request.user
            membership.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()
