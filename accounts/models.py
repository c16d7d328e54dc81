from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import MaxValueValidator
from django.db import models

from accounts.validators import validate_username
from common.db import FieldConstraintErrorsMixin, NormalizedKeysMixin
from common.numbers import INT64_MAX
from common.text import fold, single_line

MAX_ID = INT64_MAX


class UserQuerySet(models.QuerySet):
    def identified_by(self, identifier: int | str) -> "UserQuerySet":
        """The account a client names: the one rule for logins, members and transfers.

        A JSON integer is an id. A string with an `@` is an e-mail, any other string a username, both compared in
        their folded form; a string is never an id. No username holds an `@`, so the answer is never ambiguous.
        """
        if isinstance(identifier, bool):
            return self.none()
        if isinstance(identifier, int):
            return self.filter(pk=identifier) if 0 < identifier <= MAX_ID else self.none()
        if not isinstance(identifier, str) or not identifier.strip():
            return self.none()
        key = fold(identifier.strip())
        return self.filter(email_key=key) if "@" in key else self.filter(username_key=key)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username: str) -> "User":
        # Usernames are unique in their folded form, so "Alice" and "alice" name the same account.
        return self.get(username_key=fold(username))


class User(NormalizedKeysMixin, FieldConstraintErrorsMixin, AbstractUser):
    """A person or service account that owns projects and experiments and logs in with a username or e-mail."""

    normalized_keys = {"username_key": "username", "email_key": "email"}
    constraint_fields = {"accounts_user_username_key_unique": "username", "accounts_user_email_key_unique": "email"}

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="Letters, digits and . _ + - (no @, not digits alone); at most 150 characters.",
        validators=[validate_username],
        error_messages={"unique": "A user with that username already exists."},
    )
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[single_line])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[single_line])
    # A person's name as they write it. Set on its own, it is kept exactly; set through first and last names, it is
    # those two joined by a space (see accounts.services).
    full_name = models.CharField("full name", max_length=301, blank=True, validators=[single_line])
    email = models.EmailField("email address")
    # A new e-mail asked for and not confirmed yet; `email` changes only when the link mailed here is used.
    pending_email = models.EmailField("new email, unconfirmed", blank=True, default="")
    # The folded username and e-mail (common.text.fold), which the unique constraints and the lookups compare.
    username_key = models.TextField(editable=False)
    email_key = models.TextField(null=True, editable=False)  # noqa: DJ001 (NULL, unlike "", never clashes)
    age = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(150)])
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["username_key"],
                name="accounts_user_username_key_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                fields=["email_key"],
                name="accounts_user_email_key_unique",
                violation_error_message="A user with that email already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def pending_email_or_none(self) -> str | None:
        return self.pending_email or None

    def get_full_name(self) -> str:
        return self.full_name
