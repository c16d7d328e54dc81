"""What the logs say: a client's mistake is the access log's business, not a warning for an operator."""

import logging


class ServerErrorsOnly(logging.Filter):
    """On `django.request`, which logs every answer of 400 and up: keep the 5xx, drop the 4xx (the access log has
    them). A record without a status (a request that raised) is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", 500) >= 500


# The fields every line carries, plain or as JSON (LOG_FORMAT).
FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def formatters() -> dict:
    """The formatters of the service's LOGGING and of gunicorn's, by LOG_FORMAT name."""
    return {
        "plain": {"format": FIELDS},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
