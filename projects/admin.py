from django.conf import settings
from django.contrib import admin

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
        if self.value() == "soon":
            return queryset.expiring_within(settings.EXPIRATION_REMINDER_DAYS)
        if self.value() == "expired":
            return queryset.expired()
        if self.value() == "never":
            return queryset.filter(expiration_date__isnull=True)
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
        if self.value() == "soon":
            return queryset.ending_within(settings.EXPIRATION_REMINDER_DAYS)
        if self.value() == "expired":
            return queryset.expired()
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
        membership_save(actor=request.user, membership=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, actor=request.user)


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
        if change:
            services.project_update(project=obj, actor=request.user, **changed)
        else:
            services.project_create(owner=obj.owner, project=obj, **changed)

    def delete_model(self, request, obj):
        services.project_delete(project=obj, actor=request.user)

    @admin.display(ordering="experiment_count", description="experiments")
    def experiment_count(self, project: Project) -> int:
        return project.experiment_count

    @admin.action(description="Send expiration reminders for the selected projects now")
    def send_reminders_now(self, request, queryset):
        summary = services.project_send_expiration_reminders(projects=queryset, force=True)
        # The worker sends the mails; the task pages show each one, and a failed try is retried there.
        self.message_user(request, f"Reminded {summary.recipients} owner(s) about {summary.items} project(s).")

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProjectMembership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(membership=membership, actor=request.user)
        for membership, changed in formset.changed_objects:
            membership_save(actor=request.user, membership=membership, changed=changed)
        for membership in formset.new_objects:
            membership_save(actor=request.user, membership=membership, changed=[])


def membership_save(*, actor, membership: ProjectMembership, changed: list[str]) -> None:
    """Save a membership an admin form has filled, through the services, with the admin as the actor: a new one is
    added (the admin recorded as the adder), a changed one changed."""
    if membership._state.adding:
        added = services.membership_add(
            project=membership.project,
            actor=actor,
            user=membership.user,
            role=membership.role,
            expires_at=membership.expires_at,
        )
        # The admin logs and links the row it was given.
        membership.pk, membership._state.adding = added.pk, False
    else:
        fields = {name: getattr(membership, name) for name in changed if name in services.MEMBERSHIP_EDITABLE_FIELDS}
        # The stored row, so that the services compare the member's role as it was, not as the form set it.
        stored = ProjectMembership.objects.select_related("project").get(pk=membership.pk)
        services.membership_change(membership=stored, actor=actor, **fields)
