from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from common.admin import ServiceAdminMixin
from projects import services, sharing
from projects.models import Project, ProjectInvitation, ProjectMembership


class _EndFilter(admin.SimpleListFilter):
    """Rows whose end (`end_field`) falls within the reminder window (`within`, a QuerySet method), has passed, or
    never comes; `labels` words the three choices."""

    end_field: str
    within: str
    labels: tuple[str, str, str]

    def lookups(self, request, model_admin):
        soon, expired, never = self.labels
        return [("soon", soon.format(days=settings.EXPIRATION_REMINDER_DAYS)), ("expired", expired), ("never", never)]

    def queryset(self, request, queryset):
        choice = self.value()
        if choice == "soon":
            return getattr(queryset, self.within)(settings.EXPIRATION_REMINDER_DAYS)
        if choice == "expired":
            return queryset.expired()
        if choice == "never":
            return queryset.filter(**{f"{self.end_field}__isnull": True})
        return queryset


class ExpirationFilter(_EndFilter):
    """Projects that expire within the reminder window, have expired, or never expire."""

    title, parameter_name = "expiration", "expiration"
    end_field, within = "expiration_date", "expiring_within"
    labels = ("Expires within {days} days", "Expired", "Never expires")


class MembershipAdminForm(forms.ModelForm):
    """A membership's form, which asks the services' expiry rule (membership_expiry_check) before saving, so that a
    refusal shows beside the field; the service asks it again when it saves."""

    def clean(self):
        cleaned = super().clean()
        if "expires_at" in self.changed_data and "expires_at" in cleaned:
            try:
                sharing.membership_expiry_check(expires_at=cleaned["expires_at"], membership=self.instance)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class MembershipInline(admin.TabularInline):
    """The project's members, to change or remove; new members are invited (POST /projects/{id}/members/) and join
    when they accept."""

    model = ProjectMembership
    form = MembershipAdminForm
    fk_name = "project"
    fields = ["user", "role", "expires_at", "added_by", "created_at"]
    readonly_fields = ["user", "added_by", "created_at"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "added_by")


class MembershipExpiryFilter(_EndFilter):
    """Memberships that have expired, end within the reminder window, or never end."""

    title, parameter_name = "expiry", "expiry"
    end_field, within = "expires_at", "ending_within"
    labels = ("Ends within {days} days", "Expired", "Never ends")


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    """Every membership, to find who has access to what and until when. Memberships begin with an invitation that
    its invitee accepts, never here."""

    form = MembershipAdminForm
    list_display = ["user", "project", "role", "expires_at", "added_by", "created_at"]
    list_filter = ["role", MembershipExpiryFilter]
    list_select_related = ["user", "project", "added_by"]
    search_fields = ["user__username", "user__email", "project__name"]
    autocomplete_fields = ["user", "project"]
    readonly_fields = ["project", "user", "added_by", "reminded_for_expiry", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        membership_save(actor=request.user, membership=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        sharing.membership_remove(membership=obj, actor=request.user)


@admin.register(Project)
class ProjectAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Projects of every user; saves and deletes go through the same services as the API's."""

    list_display = ["name", "owner", "expiration_date", "experiment_count", "created_at"]
    list_filter = [ExpirationFilter, "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "description", "owner__username", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["reminded_for_date", "lifecycle_stage", "created_at", "updated_at"]
    # The experiments app adds its inline of the project's experiments (experiments.admin).
    inlines = [MembershipInline]
    editable_fields = services.PROJECT_EDITABLE_FIELDS
    actions = ["send_reminders_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_experiment_count()

    def get_readonly_fields(self, request, obj=None):
        # A change of owner is a transfer (the previous owner stays on as maintainer): POST /projects/{id}/transfer.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def service_create(self, request, obj, changed):
        services.project_create(owner=obj.owner, project=obj, **changed)

    def service_update(self, request, obj, changed):
        services.project_update(project=obj, actor=request.user, **changed)

    def service_destroy(self, request, obj):
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
            sharing.membership_remove(membership=membership, actor=request.user)
        for membership, changed in formset.changed_objects:
            membership_save(actor=request.user, membership=membership, changed=changed)


def membership_save(*, actor, membership: ProjectMembership, changed: list[str]) -> None:
    """Save a membership an admin form has changed, through the services, with the admin as the actor."""
    fields = {name: getattr(membership, name) for name in changed if name in sharing.MEMBERSHIP_EDITABLE_FIELDS}
    # The stored row, so that the services compare the member's role as it was, not as the form set it.
    stored = ProjectMembership.objects.select_related("project").get(pk=membership.pk)
    sharing.membership_change(membership=stored, actor=actor, **fields)


@admin.register(ProjectInvitation)
class ProjectInvitationAdmin(admin.ModelAdmin):
    """Every invitation to a project, pending or answered, to find who was offered what; staff cancel pending ones
    (invitation_cancel). Invitations are sent through the API, answered by their invitees only."""

    list_display = ["invitee", "project", "kind", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["status", "kind", "role"]
    list_select_related = ["invitee", "project", "invited_by"]
    search_fields = ["invitee__username", "invitee__email", "project__name", "invited_by__username"]
    readonly_fields = [
        "project",
        "invitee",
        "kind",
        "role",
        "membership_expires_at",
        "invited_by",
        "status",
        "created_at",
        "expires_at",
        "answered_at",
    ]
    fields = readonly_fields
    actions = ["cancel_invitations"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Cancelling keeps the row, as a record of what was offered.
        return False

    @admin.action(description="Cancel the selected pending invitations")
    def cancel_invitations(self, request, queryset):
        cancelled = 0
        for invitation in queryset.pending().select_related("project"):
            sharing.invitation_cancel(invitation=invitation, actor=request.user)
            cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} invitation(s).")
