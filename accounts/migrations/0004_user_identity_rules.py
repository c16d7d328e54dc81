"""Bring existing accounts under the identity rules, keeping every one able to log in.

- A username with an `@` has it replaced by `-at-`, and a username of digits alone gets the prefix `user-`; any other
  character the rules refuse (control characters) becomes `-`.
- Usernames that fold alike ("Ärger" and "ärger") keep the oldest account's name; the others get a suffix `-2`, `-3`...
- E-mails that fold alike keep the oldest account's address; each other account's address gets `+<id>` added to its
  local part, so it stays deliverable where plus-addressing works and stays unique. Those accounts log in by username.
Every account keeps its password. Renamed accounts can log in with their e-mail, or with the new username.
"""

import re
import unicodedata

from django.db import migrations

from common.text import fold

ALLOWED = re.compile(r"[^\w.+-]")


def _clean_username(username: str) -> str:
    name = ALLOWED.sub("-", username.replace("@", "-at-")) or "user"
    if unicodedata.normalize("NFKC", name).isdigit():
        name = f"user-{name}"
    return name[:150]


def apply_rules(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken_names: set[str] = set()
    taken_emails: set[str] = set()
    for user in User.objects.order_by("id").iterator():
        username = _clean_username(user.username)
        candidate, suffix = username, 1
        while fold(candidate) in taken_names:
            suffix += 1
            candidate = f"{username[: 150 - len(str(suffix)) - 1]}-{suffix}"
        user.username, user.username_key = candidate, fold(candidate)
        taken_names.add(user.username_key)

        email = user.email
        if email and fold(email) in taken_emails:
            local, _, domain = email.rpartition("@")
            email = f"{local}+{user.pk}@{domain}" if local else f"{email}+{user.pk}"
        user.email, user.email_key = email, (fold(email) if email else None)
        if user.email_key:
            taken_emails.add(user.email_key)
        user.save(update_fields=["username", "username_key", "email", "email_key"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_user_normalized_keys")]

    operations = [migrations.RunPython(apply_rules, migrations.RunPython.noop)]
