from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction


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
