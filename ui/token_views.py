"""The tokens page: the caller's personal access tokens, made through tokens' services. A session here is a password
login, which is what creating a token takes (no token can make another)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.password_forms import throttled_password_form
from common.throttles import TOKEN_THROTTLES
from tokens.selectors import token_get, token_list
from tokens.services import token_create, token_revoke
from ui.forms import TokenCreateForm, refuse
from ui.views import found, signed_in, signed_in_post, strict_styles


def _page(request, *, form, created=None, secret: str = "", status: int = 200):
    context = {
        "form": form,
        "tokens": token_list(user=request.user),
        "created": created,
        "secret": secret,
        "site_url": settings.SITE_URL,
    }
    return render(request, "ui/tokens.html", context, status=status)


@never_cache
@strict_styles
@require_http_methods(["GET", "POST"])
@signed_in()
def tokens(request):
    """The caller's tokens with their last use; the form that creates one, whose secret is shown on the answer to that
    form only (never stored, never cached), with the two lines that point MLflow's client here."""
    if request.method == "GET":
        return _page(request, form=TokenCreateForm())
    return throttled_password_form(
        request,
        lambda: _create(request),
        throttles=TOKEN_THROTTLES,
        refused_template="ui/throttled.html",
        context={"back": reverse("ui:tokens")},
    )


def _create(request):
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, secret = token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            refuse(form, exc)
        else:
            return _page(request, form=TokenCreateForm(), created=token, secret=secret, status=201)
    return _page(request, form=form, status=400)


@signed_in_post
def token_delete(request, pk: int):
    """Revoke one of the caller's tokens; anyone else's answers 404, as a missing one does."""
    token = found(token_get(user=request.user, pk=pk), "token")
    token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("ui:tokens")
