from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone

NAME_TAKEN = "You already have a project with this name."


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ProjectQuerySet":
        """The projects `user` may see: the single definition every list, filter and serializer field uses."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def writable_by(self, user) -> "ProjectQuerySet":
        """The projects `user` may put experiments into."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def with_experiment_count(self) -> "ProjectQuerySet":
        return self.annotate(experiment_count=Count("experiments", distinct=True))


class Project(models.Model):
    """A long-lived piece of data work (a warehouse, a model, a study) that has an owner, may expire, and groups
    experiments."""

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    expiration_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    # The expiration date the owner was last reminded of; a new date re-arms the reminder.
    reminded_for_date = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "owner",
                name="projects_project_name_per_owner_ci_unique",
                violation_error_message=NAME_TAKEN,
            ),
        ]
        indexes = [models.Index(fields=["expiration_date"], name="projects_expiration_idx")]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None):
        # Trimmed before the field checks, so that the length limit and the blank check see the name that is stored.
        if isinstance(self.name, str):
            self.name = self.name.strip()
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        if self._state.adding and self.is_expired:
            raise ValidationError({"expiration_date": "A new project cannot be already expired."})

    def validate_constraints(self, exclude=None):
        # A constraint over an expression is reported for the whole row; a name clash belongs beside `name`, where the
        # serializer's check and the admin's form put it, also when it is only caught after losing a race.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            for error in errors.pop(NON_FIELD_ERRORS, []):
                errors.setdefault("name" if error.message == NAME_TAKEN else NON_FIELD_ERRORS, []).append(error)
            raise ValidationError(errors) from exc

    @property
    def is_expired(self) -> bool:
        """A project is valid through its expiration date and expired from the day after."""
        return self.expiration_date is not None and self.expiration_date < timezone.localdate()
