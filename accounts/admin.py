from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from accounts import services
from accounts.access import may_manage, require_grant
from accounts.models import User

GRANTS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin (password changes included) with the profile fields this model adds.

    It saves through the account services, with the staff member as the actor: staff other than superusers change only
    accounts without staff or superuser powers (accounts.access) and grant no powers, groups or permissions; a new
    e-mail takes effect once the address confirms it.
    """

    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["username"]
    readonly_fields = ["pending_email", "date_joined", "last_login", "updated_at"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets[:1],
        ("Personal info", {"fields": ["first_name", "last_name", "email", "pending_email", "age"]}),
        *DjangoUserAdmin.fieldsets[2:3],
        ("Important dates", {"fields": ["last_login", "date_joined", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "email", "usable_password", "password1", "password2"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += GRANTS
        if obj is not None and obj.pk == request.user.pk:
            # One's own e-mail changes with one's password (POST /auth/email), which this form does not ask for.
            readonly.append("email")
        return readonly

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or may_manage(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or may_manage(request.user, obj))

    def save_model(self, request, obj, form, change):
        if not change:
            if any(getattr(obj, name) for name in GRANTS[:2]):
                require_grant(request.user)
            return super().save_model(request, obj, form, change)
        # The form has set every field on `obj`: put back what was stored, and let the services change it.
        stored = User.objects.get(pk=obj.pk)
        changed = set(form.changed_data)
        profile = {name: getattr(obj, name) for name in (*services.USER_EDITABLE_FIELDS, "email") if name in changed}
        privileges = {name: getattr(obj, name) for name in ("is_active", *GRANTS[:2]) if name in changed}
        for name in (*profile, *privileges):
            setattr(obj, name, getattr(stored, name))
        services.user_set_privileges(user=obj, actor=request.user, **privileges)
        services.user_update(user=obj, actor=request.user, **profile)
        if obj.pending_email and "email" in profile:
            messages.info(request, f"The e-mail changes to {obj.pending_email} once the link mailed there is used.")

    def save_related(self, request, form, formsets, change):
        if {"groups", "user_permissions"} & set(form.changed_data):
            require_grant(request.user)
        super().save_related(request, form, formsets, change)

    # Deletes go through the service, as the API's do: it locks the user's experiments before their histories go.
    def delete_model(self, request, obj):
        services.user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_delete(user=user, actor=request.user)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Django's group admin; a group's permissions are granted to its members, so only a superuser changes them."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
