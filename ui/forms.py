"""The web UI's forms: the shape of what each page posts (types, lengths, choices), as the API's serializers check it.
The rules themselves are the services'; `refuse` shows their refusals beside the fields they name."""

from django import forms
from django.core.exceptions import ValidationError

from projects.models import MEMBER_ROLES
from tokens.models import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS, TokenScope


def password_field(autocomplete: str) -> forms.CharField:
    """A field that holds a password: kept as typed, and never sent back to the browser when a form is shown again;
    `autocomplete` tells password managers which one it is (`current-password`, `new-password`)."""
    return forms.CharField(
        strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": autocomplete})
    )


def refuse(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's refusal on `form`: each message beside the field it names when the form shows that field,
    else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        shown = field in form.fields and not form.fields[field].widget.is_hidden
        form.add_error(field if shown else None, messages)


class _NewPasswordForm(forms.Form):
    """A new password typed twice (the service checks it against the password rules)."""

    new_password = password_field("new-password")
    repeat_password = password_field("new-password")

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("repeat_password"):
            self.add_error("repeat_password", "The two passwords differ.")
        return data


class PasswordChangeForm(_NewPasswordForm):
    """Shown beside EmailChangeForm: the ids of its fields differ from that form's (both have `current_password`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="password_%s", **kwargs)

    current_password = password_field("current-password")
    field_order = ["current_password", "new_password", "repeat_password"]


class EmailChangeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="email_%s", **kwargs)

    email = forms.EmailField(max_length=254, label="New e-mail")
    current_password = password_field("current-password")


class LinkForm(forms.Form):
    """The uid and token a mailed link carries."""

    uid = forms.CharField(max_length=64, widget=forms.HiddenInput)
    token = forms.CharField(max_length=128, widget=forms.HiddenInput)


class PasswordResetForm(LinkForm, _NewPasswordForm):
    pass


class PasswordForgotForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail")


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Unique among your tokens, whatever the case.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.WRITE)
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=MAX_LIFETIME_DAYS, initial=DEFAULT_LIFETIME_DAYS, label="Expires in (days)"
    )


class MembershipForm(forms.Form):
    """A role and an optional end, in UTC (a browser's `datetime-local` input)."""

    role = forms.ChoiceField(choices=MEMBER_ROLES)
    expires_at = forms.DateTimeField(required=False, label="Until (UTC, empty: no end)")


class InviteForm(MembershipForm):
    user = forms.CharField(max_length=254, label="Username or e-mail")
    field_order = ["user", "role", "expires_at"]
