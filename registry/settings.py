"""
Settings for Registry.

Every value comes from an environment variable with a safe local default, so that `make run` needs no
configuration and production differs from a laptop by environment variables alone. Each variable is listed in
`.env.example` and in docs/configuration.md.
"""

import urllib.parse
from datetime import timedelta

import orjson
from django.core.exceptions import ImproperlyConfigured

from common.logs import formatters as log_formatters
from registry import __version__
from registry.env import BASE_DIR, env, local_secret_key, private_file, private_folder, project_path

# ---------------------------------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------------------------------

# Local state (the embedded database, the generated secret key, the shared cache) lives here, git-ignored.
# Private to the service's user (0700): it holds the database, with its password hashes, and the secret key.
DATA_DIR = private_folder(project_path(env.str("DATA_DIR", default="var")))
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(DATA_DIR)
DEBUG = env.bool("DEBUG", default=False)
# Loopback names are always allowed, so that probes on the machine itself (the container's health check) pass.
ALLOWED_HOSTS = [*env.list("ALLOWED_HOSTS", default=[]), "localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"
APPEND_SLASH = False  # Every API route accepts its path with or without the trailing slash.

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Requests larger than this answer 413 (see common.middleware.RequestSizeLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Routes that stream their body to storage in chunks, with a limit of their own (ARTIFACT_MAX_BYTES) instead.
STREAMED_BODY_PATHS = [r"^/api/2\.0/mlflow-artifacts/artifacts/", r"^/experiments/[0-9]+/artifacts/."]

REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
# An invitation to a project (a share or a transfer) may be accepted for this many days.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# send_expiration_reminders: remind owners of projects that expire within this many days.
EXPIRATION_REMINDER_DAYS = env.int("EXPIRATION_REMINDER_DAYS", default=7)
# The worker runs the reminders this often (a schedule that `migrate` creates or updates).
REMINDER_INTERVAL_MINUTES = env.int("REMINDER_INTERVAL_MINUTES", default=10)

# HTTPS=true behind a TLS-terminating proxy: redirect plain HTTP, send HSTS and mark cookies secure.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^health(check)?/?$"]  # Load balancers probe over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page may load scripts, styles and data from this origin only: no inline script, no eval, no other site (the web
# UI's scripts are static files). Inline styles stay allowed for the admin's and the browsable API's own <style>
# elements; the web UI's pages refuse them too (ui.views). Swagger UI and ReDoc start with an inline script of
# drf-spectacular's, so their two pages go without a policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/docs", "/redoc"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# ---------------------------------------------------------------------------------------------------------------------
# Apps
# ---------------------------------------------------------------------------------------------------------------------

INSTALLED_APPS = [
    "registry.apps.RegistryConfig",
    "registry.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_htmx",
    "csp",
    "accounts",
    "projects",
    "experiments",
    "tokens",
    "tracking",
    "artifacts",
    "loggedmodels",
    "runinputs",
    "modelregistry",
    "ui",
]

MIDDLEWARE = [
    "common.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # After the security headers, which its refusals carry too.
    "common.middleware.UnstorableTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "common.middleware.NoStoreMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "registry" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "static/"
STATIC_ROOT = project_path(env.str("STATIC_ROOT", default="staticfiles"))
# Files served at the root of the site, such as /favicon.ico.
WHITENOISE_ROOT = BASE_DIR / "registry" / "public"
LOGIN_REDIRECT_URL = "/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------------------------------------------------------------
# Artifacts
# ---------------------------------------------------------------------------------------------------------------------

# Files that runs save (MLflow's artifacts), in the "artifacts" storage: by default a folder under DATA_DIR, private to
# the service's user like the database; with ARTIFACTS_URL=s3://bucket/prefix, an S3-compatible object store that
# several instances share. Uploads are spooled in ARTIFACTS_SPOOL_DIR (beside the folder, so that a finished upload is
# moved into place by a rename) and stored only once complete.
ARTIFACTS_URL = env.str("ARTIFACTS_URL", default="")
ARTIFACTS_SPOOL_DIR = private_folder(DATA_DIR / "artifacts-incoming")
if ARTIFACTS_URL:
    _artifacts_url = urllib.parse.urlsplit(ARTIFACTS_URL)
    if _artifacts_url.scheme != "s3" or not _artifacts_url.netloc:
        raise ImproperlyConfigured("ARTIFACTS_URL must read s3://bucket or s3://bucket/prefix.")
    STORAGES["artifacts"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _artifacts_url.netloc,
            "location": _artifacts_url.path.strip("/"),
            # Empty: boto3's own chain (AWS_* variables, the instance's role).
            "endpoint_url": env.str("ARTIFACTS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("ARTIFACTS_S3_REGION", default="") or None,
            "access_key": env.str("ARTIFACTS_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("ARTIFACTS_S3_SECRET_ACCESS_KEY", default="") or None,
            "addressing_style": env.str("ARTIFACTS_S3_ADDRESSING_STYLE", default="") or None,
            "file_overwrite": True,
            "querystring_auth": False,
            "default_acl": None,
            # Reads through django-storages' own files (artifacts.s3 streams downloads) go to local disk beyond this.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }
else:
    STORAGES["artifacts"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": private_folder(DATA_DIR / "artifacts"),
            # MLflow's client logs a file again under the same name to replace it.
            "allow_overwrite": True,
            "directory_permissions_mode": 0o700,
            "file_permissions_mode": 0o600,
        },
    }
# The largest file one upload may store; larger ones answer 413 and leave nothing behind.
ARTIFACT_MAX_BYTES = env.int("ARTIFACT_MAX_BYTES", default=5 * 1024**3)

# ---------------------------------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    private_file(DATABASES["default"]["NAME"])
    # WAL lets readers work beside a writer; IMMEDIATE transactions take the write lock up front, so concurrent
    # writers wait for the busy timeout instead of failing with "database is locked" on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        }
    )
# Each worker keeps its connection between requests (opening one, with SQLite's pragmas, costs more than most reads);
# the health check replaces a connection the database has dropped before a request uses it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Where people reach the service, for the links in its mail: the public origin in production
# (https://registry.example.com); by default where `make run` listens (HOST and PORT).
_listening = env.str("HOST", default="") or "127.0.0.1"
_listening = "127.0.0.1" if _listening in ("0.0.0.0", "::") else _listening
SITE_URL = (
    env.str("SITE_URL", default="")
    or f"http://{f'[{_listening}]' if ':' in _listening else _listening}:{env.int('PORT', default=8000)}"
).rstrip("/")
# Password reset mails link here, with `?uid=...&token=...`: by default the web UI's page, which posts them with the new
# password to accounts' service (as POST /auth/password/reset/confirm does). A reset link works once, and for
# PASSWORD_RESET_TIMEOUT seconds.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="") or f"{SITE_URL}/ui/password/reset"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# The link in the mail that confirms a new e-mail, to which `?uid=...&token=...` is added: by default the web UI's page,
# whose button posts them (as POST /auth/email/confirm does). A link works once, and for PASSWORD_RESET_TIMEOUT seconds.
EMAIL_CONFIRM_URL = env.str("EMAIL_CONFIRM_URL", default="") or f"{SITE_URL}/ui/email/confirm"

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A token carries a digest of the password hash: changing the password invalidates every token at once.
    "CHECK_REVOKE_TOKEN": True,
}

# ---------------------------------------------------------------------------------------------------------------------
# REST framework
# ---------------------------------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal access tokens first: they take only credentials that start with their prefix and pass anything else
        # on, while JWTAuthentication would answer 401 to a personal access token.
        "tokens.authentication.PersonalAccessTokenAuthentication",
        "tokens.authentication.PersonalAccessTokenBasicAuthentication",
        "accounts.authentication.JWTAuthentication",
        # Only the admin and the browsable API log in with a session.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in; the token endpoint also takes a form (the OAuth2 password flow), see accounts.views.
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    # orjson renders the same JSON as REST framework's renderer, faster.
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Field errors of list items are keyed by the item's index (an int), which JSON writes as a string.
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_NON_STR_KEYS,),
    # No OPTIONS introspection: the OpenAPI schema at /schema describes every endpoint.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_PAGINATION_CLASS": "common.pagination.HeaderLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "common.filters.ListFilterBackend",
        "common.filters.StrictOrderingFilter",
    ],
    "EXCEPTION_HANDLER": "common.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.schema.RegistryAutoSchema",
    # 0 trusts no X-Forwarded-For header, so a client cannot pick the address its throttle counts under.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Failed password checks, registrations, reset mails and lookups by name: each per client address and per account
# (common.throttles).
AUTH_THROTTLE_RATE = env.str("AUTH_THROTTLE_RATE", default="10/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Registry API",
    "DESCRIPTION": "Register data projects and the experiments run in them; share them on purpose, with roles.",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["common.schema.exclude_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.add_error_responses",
        "accounts.schema.email_may_be_left_out",
        "tracking.schema.state_metric_batch_bounds",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectRoleEnum": "projects.models.ProjectRole",
        "MemberRoleEnum": "projects.models.MEMBER_ROLES",
        "TokenScopeEnum": "tokens.models.TokenScope",
    },
}

# ---------------------------------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------------------------------

# Throttles must hold across every gunicorn worker, so the default is a cache every worker shares (never the
# per-process local-memory cache): a table in the service's own database, created by a migration, whose unique key
# makes `cache.add()` atomic. Redis does the same job faster for several machines: CACHE_URL=redis://host:6379/0.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://registry_cache")}
if "redis" not in CACHES["default"]["BACKEND"]:
    # Throttle slots must not be culled to make room, which would forget attempts.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 1_000_000)

# ---------------------------------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------------------------------

# smtp+tls://user:password@host:587 sends messages; consolemail:// prints them whole to the log. Without it, each one
# is kept in a file under DATA_DIR/mail (private, like the database) and named in one line of the log.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "common.mail.FolderEmailBackend"
    EMAIL_FILE_PATH = str(private_folder(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="registry@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# ---------------------------------------------------------------------------------------------------------------------
# Task queue
# ---------------------------------------------------------------------------------------------------------------------

# Django Q2 runs mail and the reminder schedule in a worker (`manage.py qcluster`), off the request path. By default
# the queue is a table in the service's own database (nothing else to run); with REDIS_URL the queue lives in Redis,
# for several machines. Schedules and the task history are always in the database, shown in the admin.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and "socket_timeout" not in REDIS_URL:
    # Bounded waits, so that an unreachable Redis fails an enqueue or a health check instead of hanging it.
    REDIS_URL += ("&" if "?" in REDIS_URL else "?") + "socket_timeout=5&socket_connect_timeout=5"
# Seconds a task may run before its worker process is replaced.
TASK_TIMEOUT = env.int("TASK_TIMEOUT", default=60)
# Seconds after which a task taken by a worker that vanished (killed, machine lost) is handed out again. Longer than
# TASK_TIMEOUT, or a slow task would run twice.
# Empty (as in .env.example) means the default.
TASK_RETRY = int(env.str("TASK_RETRY", default="") or TASK_TIMEOUT + 30)
if TASK_RETRY <= TASK_TIMEOUT:
    raise ImproperlyConfigured("TASK_RETRY must be larger than TASK_TIMEOUT.")
Q_CLUSTER = {
    "name": "registry",
    "workers": env.int("QUEUE_WORKERS", default=2),
    "timeout": TASK_TIMEOUT,
    "retry": TASK_RETRY,
    # A task that raises is done with: the mail task schedules its own retry with a growing delay (common.mail),
    # and the reminder schedule runs again anyway. A task whose worker vanished is not acknowledged, so it runs again.
    "ack_failures": True,
    # After downtime, run a missed schedule once, not once per missed interval.
    "catch_up": False,
    # Successful tasks kept for the admin's history; failed ones are kept until deleted there.
    "save_limit": 1000,
    "poll": 0.5,
    "label": "Tasks",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}
# Sending a mail: tries in all, and the delay before the first retry, doubled for each one after it.
MAIL_ATTEMPTS = env.int("MAIL_ATTEMPTS", default=6)
MAIL_RETRY_SECONDS = env.int("MAIL_RETRY_SECONDS", default=60)

# ---------------------------------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
# plain: one line of text per record; json: one JSON object per line, for a log collector.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").lower()
if LOG_FORMAT not in log_formatters():
    raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(log_formatters())}, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": log_formatters(),
    "filters": {"server_errors_only": {"()": "common.logs.ServerErrorsOnly"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Expected client errors (4xx) are in the access log; warnings and errors are for an operator to look at.
        "django.request": {"filters": ["server_errors_only"]},
    },
}
