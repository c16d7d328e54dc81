"""gunicorn settings, from the same environment variables as the service (a `.env` file included, see registry.env)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # The project folder, wherever gunicorn is started from.

from registry.env import env  # noqa: E402

bind = f"{env.str('HOST', default='127.0.0.1')}:{env.int('PORT', default=8000)}"
workers = env.int("WEB_CONCURRENCY", default=2)
# Requests in flight finish on SIGTERM; this is how long they get.
graceful_timeout = env.int("GRACEFUL_TIMEOUT", default=30)
timeout = env.int("WORKER_TIMEOUT", default=60)
accesslog = "-"
errorlog = "-"
loglevel = env.str("LOG_LEVEL", default="info").lower()
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1")
wsgi_app = "registry.wsgi:application"
# No runtime control socket: it would live at one path shared by every instance of a user (or fail to be created in
# the container's read-only home), and nothing here uses it.
control_socket_disable = True

# LOG_FORMAT=json: gunicorn's own lines (its errors and the access log) as JSON objects too, one per line.
if env.str("LOG_FORMAT", default="plain").lower() == "json":
    from common.logs import formatters

    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatters()["json"]},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "root": {"handlers": ["json"], "level": loglevel.upper()},
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }
