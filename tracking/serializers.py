from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry import serializers as strict
from tracking.models import METRIC_KEY_MAX_LENGTH, NON_FINITE_NAMES, number_to_json
from tracking.services import INT64_MAX, INT64_MIN, KEY_PATTERN, KEY_RULE


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE_NAMES)}],
        "description": "A number, or `NaN`, `Infinity` or `-Infinity` (JSON has no literal for them).",
    }
)
class MetricValueField(serializers.Field):
    """A metric value: a JSON number, or a non-finite value by name."""

    default_error_messages = {"invalid": "A number, or one of the strings NaN, Infinity and -Infinity, is required."}

    def to_internal_value(self, data) -> float:
        if isinstance(data, str) and data in NON_FINITE_NAMES:
            return NON_FINITE_NAMES[data]
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return float(data)

    def to_representation(self, value: float):
        return number_to_json(value)


class MetricPointSerializer(serializers.Serializer):
    """One point of a metric: its value at a step and a time (milliseconds since the epoch)."""

    key = strict.CharField(
        min_length=1,
        max_length=METRIC_KEY_MAX_LENGTH,
        validators=[RegexValidator(KEY_PATTERN, message=KEY_RULE)],
        help_text=KEY_RULE,
    )
    value = MetricValueField()
    step = serializers.IntegerField(min_value=INT64_MIN, max_value=INT64_MAX, default=0, help_text="Default 0.")
    timestamp = serializers.IntegerField(
        min_value=INT64_MIN,
        max_value=INT64_MAX,
        required=False,
        help_text="Milliseconds since the epoch; default: when the point is received.",
    )
