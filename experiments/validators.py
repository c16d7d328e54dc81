"""The checks of an experiment's JSON fields: parameters, results and tags."""

import json
import math

from django.core.exceptions import ValidationError

from common.text import single_line

PARAMETERS_MAX_BYTES = 64 * 1024
TAGS_MAX_COUNT = 20
TAG_MAX_LENGTH = 50


def _json_size(value) -> int:
    """The size in bytes of `value` as compact UTF-8 JSON; ValueError for what JSON cannot hold (NaN, Infinity)."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    return len(text.encode("utf-8"))


def validate_parameters(value) -> None:
    """A JSON object of at most PARAMETERS_MAX_BYTES, with no NaN or Infinity anywhere (no database stores them)."""
    if not isinstance(value, dict):
        raise ValidationError("Parameters must be a JSON object.", code="invalid")
    try:
        size = _json_size(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            "Parameters must hold only JSON values, and only finite numbers.", code="invalid"
        ) from exc
    if size > PARAMETERS_MAX_BYTES:
        raise ValidationError(
            f"Parameters may take at most {PARAMETERS_MAX_BYTES} bytes as JSON; these take {size}.", code="max_size"
        )


def _is_finite_number(value) -> bool:
    # A bool is an int to Python, but not a number to anyone reading results.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # An int too large for a float.
        return False


def validate_results(value) -> None:
    """A JSON object whose values are finite numbers (not booleans, not strings)."""
    if not isinstance(value, dict):
        raise ValidationError("Results must be a JSON object of named numbers.", code="invalid")
    bad = [str(name) for name, number in value.items() if not isinstance(name, str) or not _is_finite_number(number)]
    if bad:
        raise ValidationError(f"Each result must be a finite number; not so: {', '.join(bad[:10])}.", code="invalid")


def validate_tags(value) -> None:
    """A list of at most TAGS_MAX_COUNT distinct strings, each 1 to TAG_MAX_LENGTH characters."""
    if not isinstance(value, list):
        raise ValidationError("Tags must be a list of strings.", code="invalid")
    if len(value) > TAGS_MAX_COUNT:
        raise ValidationError(f"At most {TAGS_MAX_COUNT} tags are allowed; {len(value)} given.", code="max_count")
    if not all(isinstance(tag, str) for tag in value):
        raise ValidationError("Each tag must be a string.", code="invalid")
    if not all(1 <= len(tag) <= TAG_MAX_LENGTH for tag in value):
        raise ValidationError(f"Each tag must have 1 to {TAG_MAX_LENGTH} characters.", code="invalid")
    for tag in value:
        single_line(tag)
    if len(set(value)) != len(value):
        raise ValidationError("Tags must be distinct.", code="duplicate")
