"""The one-time token that confirms a new e-mail, made like Django's password reset tokens (signed, timed by
PASSWORD_RESET_TIMEOUT) from what it must outlive no change of: the password, the e-mail and the pending e-mail."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailChangeTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.EmailChangeTokenGenerator"

    def _make_hash_value(self, user, timestamp) -> str:
        # Used once: confirming changes `email` and clears `pending_email`; a password change cancels it.
        return f"{user.pk}{user.password}{user.email}{user.pending_email}{timestamp}"


email_change_token = EmailChangeTokenGenerator()
