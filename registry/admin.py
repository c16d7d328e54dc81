from django.contrib import admin

from registry.throttles import PASSWORD_THROTTLES
from registry.views import throttled_password_form


class RegistryAdminSite(admin.AdminSite):
    """Django's admin site, whose login and password change are throttled like every other place that checks a
    password."""

    site_header = "Registry administration"
    site_title = "Registry"

    def login(self, request, extra_context=None):
        if request.method == "POST":
            context = {**self.each_context(request), "title": "Too many attempts"}
            refusal = throttled_password_form(request, "admin/login_throttled.html", context)
            if refusal is not None:
                return refusal
        return super().login(request, extra_context)

    def password_change(self, request, extra_context=None):
        if request.method == "POST":
            context = {**self.each_context(request), "title": "Too many attempts"}
            template = "admin/password_change_throttled.html"
            refusal = throttled_password_form(request, template, context, throttles=PASSWORD_THROTTLES)
            if refusal is not None:
                return refusal
        return super().password_change(request, extra_context)
