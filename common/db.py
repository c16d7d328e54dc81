from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

from common.text import fold


def validated_save(instance: models.Model, **save_kwargs) -> models.Model:
    """Validate `instance` with `full_clean()` and save it.

    A unique constraint can still lose a race between validation and the insert; the database then refuses the row,
    and validating again turns that refusal into the same `ValidationError` (a 400) that the first check would have
    raised, instead of a 500.
    """
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError:
        instance.validate_unique()
        instance.validate_constraints()
        raise
    return instance


class FieldConstraintErrorsMixin:
    """Report the violation of a unique constraint over an expression (such as `Lower("username")`) on its field.

    Django files such violations under the whole row, while the serializer's own check and the admin's form put them
    beside the field; listing `constraint_fields = {constraint name: field name}` makes every path say the same.
    """

    constraint_fields: dict[str, str] = {}
    # Check constraints that the fields' own validation already makes (a choice, a blank value), named here: they stay
    # in the database as a guard for writes that bypass the model, but validating them again would ask the database
    # once each. A field that fails its own validation skips its
    # constraints anyway, so no message changes.
    constraints_checked_by_fields: frozenset[str] = frozenset()

    def get_constraints(self):
        return [
            (
                model,
                [constraint for constraint in constraints if constraint.name not in self.constraints_checked_by_fields],
            )
            for model, constraints in super().get_constraints()
        ]

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            fields = {
                str(constraint.violation_error_message): self.constraint_fields[constraint.name]
                for constraint in self._meta.constraints
                if constraint.name in self.constraint_fields
            }
            errors = exc.update_error_dict({})
            for error in errors.pop(NON_FIELD_ERRORS, []):
                errors.setdefault(fields.get(error.message, NON_FIELD_ERRORS), []).append(error)
            raise ValidationError(errors) from exc

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True):
        # A field's own `unique` and a constraint over its folded form can both refuse one value: say it once.
        try:
            super().full_clean(exclude, validate_unique, validate_constraints)
        except ValidationError as exc:
            errors = {
                field: list({next(iter(error)): error for error in messages}.values())
                for field, messages in exc.update_error_dict({}).items()
            }
            raise ValidationError(errors) from exc


class NormalizedKeysMixin:
    """Keep the folded form (`common.text.fold`) of a text field in a column of its own, so that a unique constraint
    over that column compares names as people do, on every database: SQLite's LOWER() folds ASCII letters only.

    `normalized_keys = {key field: field it folds}`. The key is set before validation and before every save, so the
    API, the admin, the shell and `createsuperuser` all store it; an empty source stores NULL, which never clashes.
    Constraints over a key are always checked, even where a form leaves the key out (it has no input of its own).
    """

    normalized_keys: dict[str, str] = {}

    def set_normalized_keys(self) -> None:
        for key, source in self.normalized_keys.items():
            value = getattr(self, source)
            setattr(self, key, fold(value) if value else None)

    def clean(self):
        super().clean()
        self.set_normalized_keys()

    def validate_constraints(self, exclude=None):
        self.set_normalized_keys()
        # A form without the key (or, in the admin, with a read-only owner) would skip the constraint otherwise.
        checked = set(self.normalized_keys)
        for constraint in self._meta.constraints:
            fields = set(getattr(constraint, "fields", ()))
            if fields & checked:
                checked |= fields
        super().validate_constraints(exclude={name for name in exclude or () if name not in checked})

    def save(self, *args, **kwargs):
        # A derived column, not a rule: kept in step with its source on every save, whoever saves.
        self.set_normalized_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            sources = set(update_fields)
            kwargs["update_fields"] = [
                *update_fields,
                *(key for key, source in self.normalized_keys.items() if source in sources),
            ]
        super().save(*args, **kwargs)


class TrimmedNameMixin:
    """Strip the surrounding whitespace of `name` before the field checks, so that the length limit and the blank check
    see the name that is stored, whichever way (API, admin, shell) it arrives."""

    def clean_fields(self, exclude=None):
        if isinstance(self.name, str):
            self.name = self.name.strip()
        super().clean_fields(exclude=exclude)


def set_fields(instance: models.Model, fields: dict, *, allowed: Iterable[str]) -> models.Model:
    """Set `fields` on `instance`, each of which must be in `allowed`: what a service lets its callers change.

    A field outside that list is a programming error (ValueError), never something a request can reach: serializers
    and admin forms offer only the allowed fields.
    """
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"{type(instance).__name__} fields {', '.join(sorted(unknown))} cannot be set here")
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


class KeyValueTag(models.Model):
    """A key/value tag as tracking clients (MLflow) set them, one per key on its object: a subclass names the object
    (`owner_field`, a foreign key it declares) and the longest value it keeps."""

    TAG_KEY_MAX_LENGTH = 250

    key = models.CharField(max_length=TAG_KEY_MAX_LENGTH)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"

    @staticmethod
    def one_per_key(owner_field: str, *, name: str, message: str) -> models.UniqueConstraint:
        return models.UniqueConstraint(fields=[owner_field, "key"], name=name, violation_error_message=message)
