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
