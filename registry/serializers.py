from django.db import models
from rest_framework import serializers

_DATETIME = serializers.DateTimeField()


def datetime_text(value):
    """A datetime as REST framework's DateTimeField writes it (ISO 8601, in the current time zone); None stays None.

    For representations written out by hand, which REST framework's field-by-field walk would make too slow."""
    return None if value is None else _DATETIME.to_representation(value)


class StringOnlyMixin:
    """Accept a JSON string and nothing else: REST framework's text fields turn numbers and booleans into strings,
    which the schema (and a careful client) says they are not."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Not a valid string.", code="invalid")
        return super().to_internal_value(data)


class CharField(StringOnlyMixin, serializers.CharField):
    pass


class EmailField(StringOnlyMixin, serializers.EmailField):
    pass


class ModelSerializer(serializers.ModelSerializer):
    """REST framework's ModelSerializer whose text fields take strings only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
    }
