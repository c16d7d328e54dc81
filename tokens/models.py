import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.db import FieldConstraintErrorsMixin, NormalizedKeysMixin, TrimmedNameMixin
from common.text import single_line

# Every personal access token starts with this, so that people, logs and secret scanners recognise one, and so that
# the authentication classes tell it apart from a JWT (which always starts with "ey").
TOKEN_PREFIX = "reg_pat_"
NAME_TAKEN = "You already have a token with this name."
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365


def token_digest(raw: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up.

    A plain, fast hash is enough here, unlike for passwords: a token carries 256 random bits, so no dictionary or
    brute force can recover it from its digest, and the lookup has to be cheap because it runs on every request.
    """
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class TokenScope(models.TextChoices):
    """What a personal access token may do: `read` allows safe methods only."""

    READ = "read", "Read"
    WRITE = "write", "Write"


class PersonalAccessTokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PersonalAccessTokenQuerySet":
        """A user's own tokens: nobody else sees them, staff included (the admin has them)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def expired(self) -> "PersonalAccessTokenQuerySet":
        return self.filter(expires_at__lte=timezone.now())

    def unexpired(self) -> "PersonalAccessTokenQuerySet":
        return self.filter(expires_at__gt=timezone.now())


class PersonalAccessToken(TrimmedNameMixin, NormalizedKeysMixin, FieldConstraintErrorsMixin, models.Model):
    """A long-lived credential a user makes for a script, CI job or MLflow client, with a scope and an expiry.

    Only a SHA-256 digest of the secret is stored, beside a short prefix to recognise it by; the secret itself is
    shown once, when the token is created. Revoking a token deletes it.
    """

    normalized_keys = {"name_key": "name"}
    constraint_fields = {"tokens_pat_name_key_per_user_unique": "name"}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_access_tokens")
    # On one line: the name goes into the subject of the mail that announces the token, where a line break would make
    # the mail fail, and that mail is what keeps a token made with a stolen password from going unnoticed.
    name = models.CharField(max_length=100, validators=[single_line])
    # The folded name (common.text.fold): a user's tokens differ in it.
    name_key = models.TextField(editable=False)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.WRITE)
    token_prefix = models.CharField(max_length=20, editable=False, help_text="The token's first characters.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # Set by the service from the same clock reading as `expires_at`, so that a 90-day token lives exactly 90 days.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PersonalAccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal access token"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name_key"],
                name="tokens_pat_name_key_per_user_unique",
                violation_error_message=NAME_TAKEN,
            ),
            models.CheckConstraint(
                condition=Q(scope__in=TokenScope.values),
                name="tokens_pat_scope_valid",
                violation_error_message="The scope must be read or write.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def allows_writes(self) -> bool:
        return self.scope == TokenScope.WRITE
