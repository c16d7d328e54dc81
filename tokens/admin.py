from django.contrib import admin

from common.admin import ServiceAdminMixin
from tokens import services
from tokens.models import PersonalAccessToken


class ExpiryFilter(admin.SimpleListFilter):
    """Tokens that still work, and those that have expired."""

    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("live", "Not expired"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.unexpired()
        if self.value() == "expired":
            return queryset.expired()
        return queryset


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Every user's personal access tokens, grouped by user, to find and revoke them. Read-only otherwise: tokens are
    created through the API, which shows the secret once; neither the secret nor its digest is ever displayed."""

    list_display = ["user", "name", "token_prefix", "scope", "created_at", "expires_at", "last_used_at", "expired"]
    list_filter = ["scope", ExpiryFilter, "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "token_prefix", "user__username", "user__email"]
    ordering = ["user__username", "-created_at"]
    fields = ["user", "name", "token_prefix", "scope", "created_at", "expires_at", "last_used_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True)
    def expired(self, token: PersonalAccessToken) -> bool:
        return token.is_expired

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            services.token_revoke(token=token)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).")

    def service_destroy(self, request, obj):
        services.token_revoke(token=obj)
