"""The account pages: change the password or the e-mail, confirm a new e-mail, and reset a forgotten password. Each
form posts to accounts' services, throttled as the API's doors are (every door that checks a password in one bucket),
and a form accepted redirects, which is what takes a failed-attempt count back."""

from functools import partial

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.services import (
    user_change_password,
    user_confirm_email_change,
    user_request_email_change,
    user_request_password_reset,
    user_reset_password,
)
from common.password_forms import throttled_password_form
from common.throttles import PASSWORD_THROTTLES, RESET_THROTTLES
from ui.forms import EmailChangeForm, LinkForm, PasswordChangeForm, PasswordForgotForm, PasswordResetForm, refuse
from ui.views import signed_in_page, signed_in_post, strict_styles

THROTTLED = "ui/throttled.html"


def _throttled(request, submit, *, throttles, back: str):
    return throttled_password_form(
        request, partial(submit, request), throttles=throttles, refused_template=THROTTLED, context={"back": back}
    )


def _account_page(request, *, status: int = 200, **forms):
    context = {
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "email_form": forms.get("email_form") or EmailChangeForm(),
    }
    return render(request, "ui/account.html", context, status=status)


@signed_in_page
def account(request):
    """The caller's account: who they are, and the forms that change the password and the e-mail."""
    return _account_page(request)


@signed_in_post
def account_password(request):
    return _throttled(request, _change_password, throttles=PASSWORD_THROTTLES, back=reverse("ui:account"))


def _change_password(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            user_change_password(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            # The password is part of every session's check: the others end now, this one is carried over.
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password is changed. You are signed out everywhere else.")
            return redirect("ui:account")
    return _account_page(request, status=400, password_form=form)


@signed_in_post
def account_email(request):
    return _throttled(request, _change_email, throttles=PASSWORD_THROTTLES, back=reverse("ui:account"))


def _change_email(request):
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            user = user_request_email_change(
                user=request.user,
                actor=request.user,
                email=form.cleaned_data["email"],
                current_password=form.cleaned_data["current_password"],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(
                request,
                f"A link is on its way to {user.pending_email}: your e-mail changes once you open it. "
                "Until then, mail goes to your current address.",
            )
            return redirect("ui:account")
    return _account_page(request, status=400, email_form=form)


def _link_form(request, form_class):
    """The form of a page a mailed link opens: the link's uid and token, from the address (GET) or the form (POST)."""
    if request.method == "POST":
        return form_class(request.POST)
    return form_class(initial={"uid": request.GET.get("uid", ""), "token": request.GET.get("token", "")})


@never_cache
@strict_styles
@require_http_methods(["GET", "POST"])
def email_confirm(request):
    """The page the confirmation mail links to (`?uid=&token=`): a button that confirms the new e-mail. Opening the
    link changes nothing by itself (mail scanners open links too); the button posts."""
    if request.method == "GET":
        return render(request, "ui/email_confirm.html", {"form": _link_form(request, LinkForm)})
    return _throttled(request, _confirm_email, throttles=PASSWORD_THROTTLES, back=reverse("ui:signin"))


def _confirm_email(request):
    form = _link_form(request, LinkForm)
    if form.is_valid():
        try:
            user = user_confirm_email_change(uid=form.cleaned_data["uid"], token=form.cleaned_data["token"])
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, f"Your e-mail is now {user.email}.")
            return redirect("ui:account")
    elif not form.non_field_errors():
        form.add_error(None, "This confirmation link is incomplete: open the whole link from the mail.")
    return render(request, "ui/email_confirm.html", {"form": form}, status=400)


@strict_styles
@require_http_methods(["GET", "POST"])
def password_forgot(request):
    """Ask for a password reset mail. The answer is the same whether or not an account has the e-mail."""
    if request.method == "GET":
        return render(request, "ui/password_forgot.html", {"form": PasswordForgotForm()})
    return _throttled(request, _forgot, throttles=RESET_THROTTLES, back=reverse("ui:password-forgot"))


def _forgot(request):
    form = PasswordForgotForm(request.POST)
    if not form.is_valid():
        return render(request, "ui/password_forgot.html", {"form": form}, status=400)
    user_request_password_reset(email=form.cleaned_data["email"])
    messages.info(
        request,
        "If an account has this e-mail, a link to set a new password is on its way to it. The link works once.",
    )
    return redirect("ui:password-forgot")


@never_cache
@strict_styles
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """The page the reset mail links to (`?uid=&token=`): a new password, posted with the link's uid and token."""
    if request.method == "GET":
        return render(request, "ui/password_reset.html", {"form": _link_form(request, PasswordResetForm)})
    return _throttled(request, _reset, throttles=PASSWORD_THROTTLES, back=reverse("ui:password-forgot"))


def _reset(request):
    form = _link_form(request, PasswordResetForm)
    if form.is_valid():
        try:
            user_reset_password(
                uid=form.cleaned_data["uid"],
                token=form.cleaned_data["token"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, "Your new password is set. Sign in with it.")
            return redirect("ui:signin")
    if any(name in form.errors for name in ("uid", "token")):
        form.add_error(None, "This link is incomplete: open the whole link from the mail.")
    return render(request, "ui/password_reset.html", {"form": form}, status=400)
