"""Password forms outside REST framework (the admin's, the browsable API's and the web UI's): throttled as every door
that checks a password is, by the attempts of common.throttles."""

import math
from collections.abc import Callable
from functools import partial

from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.template.response import TemplateResponse
from rest_framework import status

from common.throttles import LOGIN_THROTTLES, Attempt, remember_device


def throttled_password_form(
    request,
    submit: Callable[[], HttpResponse],
    *,
    throttles: list,
    refused_template: str,
    context: dict | None = None,
    logs_in: bool = False,
) -> HttpResponse:
    """For a form outside REST framework that checks a password (the admin's, the browsable API's and the web UI's
    login, the admin's password change): one `Attempt` under `throttles`, answered by a 429 page with Retry-After when
    they refuse it, else by `submit()`. Django's auth views redirect once the form is accepted, which takes the attempt
    back; a login then gives the client a device cookie for the account."""
    attempt = Attempt(request, throttles)
    wait = attempt.refusal()
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        response = TemplateResponse(request, refused_template, {**(context or {}), "retry_after": seconds}, status=429)
        response["Retry-After"] = str(seconds)
        return response
    response = submit()
    if response.status_code == status.HTTP_302_FOUND:
        attempt.succeeded()
        if logs_in:
            remember_device(request, response, request.user)
    return response


class ThrottledLoginView(LoginView):
    """Django's login page (a session), throttled like every door that checks a password; a refused attempt gets
    `refused_template` with a 429."""

    refused_template: str

    def post(self, request, *args, **kwargs):
        return throttled_password_form(
            request,
            partial(super().post, request, *args, **kwargs),
            throttles=LOGIN_THROTTLES,
            refused_template=self.refused_template,
            logs_in=True,
        )
