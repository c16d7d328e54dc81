from functools import partial

from django.contrib import admin

from common.password_forms import throttled_password_form
from common.throttles import LOGIN_THROTTLES, PASSWORD_THROTTLES


class RegistryAdminSite(admin.AdminSite):
    """Django's admin site, whose login and password change are throttled like every other place that checks a
    password."""

    site_header = "Registry administration"
    site_title = "Registry"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        return throttled_password_form(
            request,
            partial(super().login, request, extra_context),
            throttles=LOGIN_THROTTLES,
            refused_template="admin/login_throttled.html",
            context={**self.each_context(request), "title": "Too many attempts"},
            logs_in=True,
        )

    def password_change(self, request, extra_context=None):
        if request.method != "POST":
            return super().password_change(request, extra_context)
        return throttled_password_form(
            request,
            partial(super().password_change, request, extra_context),
            throttles=PASSWORD_THROTTLES,
            refused_template="admin/password_change_throttled.html",
            context={**self.each_context(request), "title": "Too many attempts"},
        )
