from django.contrib import admin

from registry.views import throttled_login


class RegistryAdminSite(admin.AdminSite):
    """Django's admin site, whose login door is throttled like every other place that checks a password."""

    site_header = "Registry administration"
    site_title = "Registry"

    def login(self, request, extra_context=None):
        if request.method == "POST":
            context = {**self.each_context(request), "title": "Too many attempts"}
            refusal = throttled_login(request, "admin/login_throttled.html", context)
            if refusal is not None:
                return refusal
        return super().login(request, extra_context)
