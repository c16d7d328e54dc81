from django.db import models
from django.utils import timezone
from rest_framework import serializers


def datetime_text(value, zone=None):
    """A datetime as REST framework's DateTimeField writes it: ISO 8601 in the current time zone (or `zone`), `Z` for
    UTC; None stays None.

    For representations written out by hand, where calling that field for every value would be a list's main cost.
    experiments/tests/test_representation.py holds the two to the same answer.
    """
    if value is None:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
