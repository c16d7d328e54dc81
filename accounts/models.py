from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower

from registry.db import FieldConstraintErrorsMixin


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username: str) -> "User":
        # Usernames are unique case-insensitively, so "Alice" and "alice" name the same account.
        return self.get(username__iexact=username)


class User(FieldConstraintErrorsMixin, AbstractUser):
    """A person or service account that owns projects and experiments and logs in with a username or e-mail."""

    constraint_fields = {"accounts_user_username_ci_unique": "username", "accounts_user_email_ci_unique": "email"}

    email = models.EmailField("email address")
    age = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(150)])
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def full_name(self) -> str:
        return self.get_full_name()
