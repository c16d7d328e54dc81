import math

from django.contrib import admin
from django.template.response import TemplateResponse

from registry.throttles import PASSWORD_THROTTLES, first_refusal


class RegistryAdminSite(admin.AdminSite):
    """Django's admin site, whose login door is throttled like every other place that checks a password."""

    site_header = "Registry administration"
    site_title = "Registry"

    def login(self, request, extra_context=None):
        if request.method == "POST":
            wait = first_refusal(request, PASSWORD_THROTTLES)
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                context = {**self.each_context(request), "title": "Too many attempts", "retry_after": seconds}
                response = TemplateResponse(request, "admin/login_throttled.html", context, status=429)
                response["Retry-After"] = str(seconds)
                return response
        return super().login(request, extra_context)
