"""gunicorn settings, from the same environment variables as the service."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Requests in flight finish on SIGTERM; this is how long they get.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "60"))
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "registry.wsgi:application"
# No runtime control socket: it would live at one path shared by every instance of a user (or fail to be created in
# the container's read-only home), and nothing here uses it.
control_socket_disable = True
