"""Reading MLflow's fields from a request's body or query: each answers MLflow's INVALID_PARAMETER_VALUE for a
missing or malformed value, naming the parameter as MLflow's server does."""

import json
import re

from common.numbers import INT64_MAX, INT64_MIN
from mlflow_api import entities
from mlflow_api.errors import MlflowError
from tracking import services as tracking
from tracking.models import NON_FINITE_NAMES

# A run id as MLflow's server checks it where it does (runs/log-batch, runs/log-inputs): 400 rather than 404.
RUN_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")


def _missing(name: str) -> MlflowError:
    return MlflowError(f"Missing value for required parameter '{name}'.")


def _wrong_type(name: str, value) -> MlflowError:
    """A value of the wrong JSON type, which MLflow's server refuses when it parses the request's protobuf message."""
    return MlflowError(
        f"Invalid value {json.dumps(value)} for parameter '{name}' supplied: "
        f"Hint: Value was of type '{type(value).__name__}'."
    )


def _given(data, name: str, *, required: bool):
    """The value of `name`, or None where it is absent or empty (MLflow's protobuf reads an empty string as absent),
    which is a 400 if it is `required`."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    return value


def text(data, name: str, *, required: bool = True, default=None):
    value = _given(data, name, required=required)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _wrong_type(name, value)
    return value


def integer(data, name: str, *, required: bool = False, default=None):
    value = _given(data, name, required=required)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
        raise MlflowError(f"Invalid value {value!r} for parameter '{name}': a 64-bit integer is required.")
    return value


def number(value, name: str) -> float:
    if isinstance(value, str):
        if value in NON_FINITE_NAMES:
            return NON_FINITE_NAMES[value]
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MlflowError(f"Invalid value {value!r} for parameter '{name}': a number is required.")
    return float(value)


def pairs(data, name: str) -> list[dict]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MlflowError(f"Invalid value for parameter '{name}': a list of {{key, value}} objects is required.")
    return value


def strings(data, name: str) -> list[str]:
    value = data.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong_type(name, value)
    return value


def run_id(data, *, checked: bool = False) -> str:
    """The run's id (`run_id`, or the older `run_uuid`); `checked` refuses one of a shape no run id has, with 400 as
    MLflow's server does for the RPCs that check it, where the others answer 404."""
    value = text(data, "run_id", required=False) or text(data, "run_uuid", required=False)
    if value is None:
        raise _missing("run_id")
    if checked and not RUN_ID_PATTERN.match(value):
        raise MlflowError(f"Invalid value {json.dumps(value)} for parameter 'run_id' supplied.")
    return value


def status(data):
    value = data.get("status")
    if value is None or value == "":
        return None
    value = entities.STATUS_NUMBERS.get(value, value)
    if value not in entities.FROM_MLFLOW_STATUS:
        raise MlflowError(f"Invalid status {value!r}: one of {', '.join(entities.FROM_MLFLOW_STATUS)}.")
    return entities.FROM_MLFLOW_STATUS[value]


def time(data, name: str):
    value = integer(data, name)
    return None if value is None else entities.from_ms(value, name=name)


def point(item: dict, *, default_timestamp: int | None = None) -> tracking.Point:
    if not isinstance(item, dict):
        raise MlflowError("Each metric must be an object with key, value, timestamp and step.")
    key, value, step, timestamp = item.get("key"), item.get("value"), item.get("step", 0), item.get("timestamp")
    # The shape the client sends, taken without the general conversions below: a batch holds a thousand of them.
    if type(key) is str and key and type(value) is float and type(step) is int and type(timestamp) is int:
        return tracking.Point(key=key, value=value, step=step, timestamp=timestamp)
    timestamp = integer(item, "timestamp", default=default_timestamp)
    if timestamp is None:
        raise _missing("timestamp")
    return tracking.Point(
        key=text(item, "key"),
        value=number(item.get("value"), "value"),
        step=integer(item, "step", default=0),
        timestamp=timestamp,
    )
