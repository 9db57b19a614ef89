"""All settings, read strictly from the environment (see README, "Configuration").

The defaults are the embedded configuration: SQLite and a filesystem broker
under ``var/``, nothing else to install. A malformed variable stops start-up
with ``ImproperlyConfigured`` naming it.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from imagetasks import dotenv
from imagetasks.broker import folder_options
from imagetasks.env import Env, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# Every entry point (manage.py, celery, gunicorn, make run's steps) reads the same .env;
# a variable already in the environment wins over the file.
ENV_FILE = Path(os.environ.get("IMAGETASKS_ENV_FILE") or BASE_DIR / ".env")
try:
    dotenv.load(ENV_FILE)
except ValueError as _error:
    raise ImproperlyConfigured(f"{ENV_FILE}: {_error}") from None
env = Env()

# Importing this module creates and writes nothing: `manage.py prepare` makes the folders
# and the key file below (`make run` calls it first, the test suite at start).
VAR_DIR = Path(env.str("IMAGETASKS_VAR_DIR", str(BASE_DIR / "var"))).resolve()

# Off unless asked for: Django's debug pages show settings and local variables, which
# no person using the site should see (`DEBUG=true` for development).
DEBUG = env.bool("DEBUG", False)


# Where `manage.py prepare` keeps the key it generates when SECRET_KEY is not set.
SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _secret_key() -> str:
    """The configured key, else the one `manage.py prepare` generated, else none yet.

    Keeping a generated key means sessions survive restarts of `make run`. Several
    hosts serving the same site must share one: they set SECRET_KEY. Without either,
    Django refuses whatever needs the key, and `manage.py check` (run by `migrate`)
    says to run `manage.py prepare`.
    """
    configured = env.str("SECRET_KEY")
    if configured:
        return configured
    try:
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        return ""


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with http:// or https://."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    # Only for its templates and static files: the API's docs page is served from here.
    "ninja",
    "imagetasks.dashboard",
    "imagetasks.localcloud",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files are not the dashboard's answers.
    "imagetasks.dashboard.metrics.http.RequestLatencyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "imagetasks.security_headers.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imagetasks.urls"
WSGI_APPLICATION = "imagetasks.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL",
        env.url(
            "DATABASE_URL",
            f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
            schemes=("sqlite", "postgres", "postgresql", "pgsql"),
        ),
        base_dir=BASE_DIR,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that workers started by tests in other processes share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Guessing passwords (the dashboard's login and the admin's): after LOGIN_FAILURE_LIMIT
# failures for one login from one address, that pair is locked for LOGIN_LOCKOUT_MINUTES
# (django-axes). Only the pair: someone else typing a name wrong cannot lock a person
# out from their own desk. An admin unlocks in the admin (Access attempts) or with
# `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers only the sign-in callback of the OpenID Connect provider (below).
    "imagetasks.dashboard.signin.backend.ProviderBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address the connection comes from; a proxy's X-Forwarded-For could be forged.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# The JSON API (/api/v1/): requests per person and minute, counted by each web process.
API_RATE_LIMIT = f"{env.int('API_REQUESTS_PER_MINUTE', 600, minimum=1)}/m"
# Throttling reads the connection's address, never a forgeable X-Forwarded-For.
NINJA_NUM_PROXIES = 0

# Error reports (the debug page, error emails) hide the locals of code holding secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "imagetasks.error_reports.SecretsHiddenFilter"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# Signing in with the organisation's OpenID Connect provider (README, "Signing in";
# docs/ARCHITECTURE.md, "Signing in"). Off without OIDC_ISSUER. The provider's endpoints
# come from its discovery document (dashboard/signin/discovery.py), not from settings.
OIDC_ISSUER = (
    env.url("OIDC_ISSUER", "", schemes=("https", "http")) if env.raw("OIDC_ISSUER") else ""
)
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", "")
# A secret: its name has SECRET in it, so Django's error reports hide it like SECRET_KEY.
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", "")
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too (the "
        "client registered for this site at the provider)."
    )
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", "openid email profile")
if "openid" not in OIDC_RP_SCOPES.split():
    raise ImproperlyConfigured(f"OIDC_SCOPES={OIDC_RP_SCOPES!r} must include openid.")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", "groups")
# Values of the groups claim that make a person an operator or a viewer, and the prefix of
# those that grant one cloud by name.
OIDC_OPERATORS_GROUP = env.str("OIDC_OPERATORS_GROUP", "imagetasks:operators")
OIDC_VIEWERS_GROUP = env.str("OIDC_VIEWERS_GROUP", "imagetasks:viewers")
OIDC_CLOUD_GROUP_PREFIX = env.str("OIDC_CLOUD_GROUP_PREFIX", "imagetasks:cloud:")
# The button's "Sign in with …": the issuer's host name when not set.
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", "")
# The ID token's signature algorithm; RS256 is the one every provider must offer.
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", "RS256")
if OIDC_RP_SIGN_ALGO not in {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"}:
    raise ImproperlyConfigured(
        f"OIDC_SIGN_ALGO={OIDC_RP_SIGN_ALGO!r}: use an asymmetric algorithm such as RS256."
    )
# Seconds to connect to and to hear from the provider, for each request to it.
OIDC_TIMEOUT = (5.0, env.float("OIDC_TIMEOUT", 10.0, minimum=1.0))
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
# The password form of the login page and of the admin; off, only the provider signs in.
PASSWORD_LOGIN = env.bool("PASSWORD_LOGIN", True)
if not PASSWORD_LOGIN and not OIDC_ISSUER:
    raise ImproperlyConfigured(
        "PASSWORD_LOGIN=false needs OIDC_ISSUER: without a provider nobody could log in."
    )

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True

# Nothing is served from MEDIA_ROOT; naming a URL keeps test servers from serving
# files of the working directory at "/".
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "static")))
# Outside DEBUG, static files get hashed names (collectstatic writes them; `make run`
# runs it), so whitenoise serves them with a year's cache lifetime: pages never
# revalidate their CSS and JS, and a new release changes the names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: printed to the console unless an SMTP host is configured.
EMAIL_HOST = env.str("EMAIL_HOST", "")
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "imagetasks@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds each step of talking to the mail server may take; a notification's
# delivery lease is derived from it, so a hung server cannot hold one for ever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", 30.0, minimum=1.0)

# Where people reach this site: links in notification emails and webhooks. By
# default the address `make run` serves on.
IMAGETASKS_BIND = env.str("IMAGETASKS_BIND", "127.0.0.1:8000")
IMAGETASKS_BASE_URL = env.url(
    "IMAGETASKS_BASE_URL", f"http://{IMAGETASKS_BIND}", schemes=("http", "https")
).rstrip("/")
_HTTPS = IMAGETASKS_BASE_URL.startswith("https://")

# Production switches. A site reached over https (IMAGETASKS_BASE_URL) gets them all
# by default, so that `manage.py check --deploy` is clean without more settings; one
# served over plain http (`make run` on 127.0.0.1) must not redirect to https.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", _HTTPS)
# Container health checks and scrapers inside the deployment's network speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", _HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", _HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000 if _HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", _HTTPS)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL_HEADER", False) else None
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Celery. JSON only, at-least-once delivery (acks late, requeue on a lost
# worker) with idempotent jobs, one message at a time per worker process.
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL",
    "filesystem://",
    schemes=("filesystem", "redis", "rediss", "amqp", "pyamqp", "memory"),
)
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's filesystem channel with atomic publishing and claiming (see broker.py).
    CELERY_BROKER_TRANSPORT = "imagetasks.broker:Transport"
    # kombu looks for new message files once a second by default, which adds up to a
    # second to every job; a tenth of a second costs an idle worker nothing.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = folder_options(
        BROKER_DIR, polling_interval=0.1
    )
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A job not acknowledged within this time is delivered again (acks_late).
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        "socket_connect_timeout": 5,
        "socket_timeout": 10,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes every database connection before and after each job unless this is set,
# so a worker opened a new one for every job: a PostgreSQL backend forked for each poll
# job, a second per cloud. Connections are handled as Django handles them per request
# instead (imagetasks/celery.py): kept for CONN_MAX_AGE, health-checked, closed once
# broken. Celery still closes them every this many jobs.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "dashboard"
# The built-in cloud's import/export work has a queue of its own, so a long
# import never delays the dashboard's polling. So do beat's short sweeps, which claim
# what is due and send a job for each: in the dashboard's queue a tick waited behind
# the poll jobs earlier ticks sent, and expired unrun. The Procfile's `dispatcher`
# consumes only `dispatch`, so a tick always finds a free worker (docs/ARCHITECTURE.md).
DISPATCH_QUEUE = "dispatch"
SWEEP_JOBS = ("dispatch_polls", "advance_copies", "dispatch_notifications", "check_capabilities")
CELERY_TASK_ROUTES = {
    "imagetasks.localcloud.*": {"queue": "localcloud"},
    **{f"imagetasks.dashboard.{job}": {"queue": DISPATCH_QUEUE} for job in SWEEP_JOBS},
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What jobs print (the console email backend's messages) is logged as INFO, not WARNING.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"

# Cloud secrets are encrypted at rest with these Fernet keys (newest first);
# without them a key is derived from SECRET_KEY.
CLOUD_SECRET_KEYS = env.list("CLOUD_SECRET_KEYS", [])
for _key in CLOUD_SECRET_KEYS:
    try:
        from cryptography.fernet import Fernet

        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "CLOUD_SECRET_KEYS holds a value that is not a Fernet key "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None

# Liveness: beat sends a heartbeat job this often; a part whose last beat is
# older than the maximum age is reported down by /healthz.
HEARTBEAT_INTERVAL = env.float("HEARTBEAT_INTERVAL", 10.0, minimum=1.0)
HEARTBEAT_MAX_AGE = env.float("HEARTBEAT_MAX_AGE", 60.0, minimum=2.0)

# /metrics: scrapers send this as a bearer token; without one, only this host may scrape.
IMAGETASKS_METRICS_TOKEN = env.str("IMAGETASKS_METRICS_TOKEN", "").strip()

# What a cloud offers for imports is asked again by beat once its answer is this many
# hours old (at once when it was never asked, every few minutes after a failed check).
CAPABILITIES_MAX_AGE = env.float("IMAGETASKS_CAPABILITIES_MAX_AGE", 24.0, minimum=0.01)

# Retention, in days: how long the history that piles up is kept. Unset keeps it forever,
# the default, since the audit is the product. Beat's prune job applies them every hour;
# `manage.py prune` shows what they would remove (see upkeep/retention.py).
KEEP_SNAPSHOTS_DAYS = env.optional_int("IMAGETASKS_KEEP_SNAPSHOTS_DAYS", minimum=1)
KEEP_NOTIFICATIONS_DAYS = env.optional_int("IMAGETASKS_KEEP_NOTIFICATIONS_DAYS", minimum=1)
KEEP_REJECTED_DAYS = env.optional_int("IMAGETASKS_KEEP_REJECTED_DAYS", minimum=1)
# Rows removed per transaction, so no table is locked for long.
PRUNE_BATCH_SIZE = env.int("IMAGETASKS_PRUNE_BATCH_SIZE", 2000, minimum=1)

# The built-in cloud (imagetasks.localcloud), served under /localcloud/. A deployment
# that talks only to real clouds switches it off: no /localcloud/ URLs, no fault
# injection, no upkeep jobs (its tables stay, empty).
LOCALCLOUD_ENABLED = env.bool("LOCALCLOUD_ENABLED", True)
if LOCALCLOUD_ENABLED:
    MIDDLEWARE.append("imagetasks.localcloud.faults.FaultInjectionMiddleware")
LOCALCLOUD_STORE_DIR = Path(env.str("LOCALCLOUD_STORE_DIR", str(VAR_DIR / "localcloud")))
LOCALCLOUD_PUBLIC_URL = env.str("LOCALCLOUD_PUBLIC_URL", "")  # default: the request's own host
LOCALCLOUD_REGION = env.str("LOCALCLOUD_REGION", "LOCAL")
# The extra region the demo seed gives the stock-Glance demo account (projects opt in to
# extra regions one by one: Project.extra_regions).
LOCALCLOUD_SECOND_REGION = env.str("LOCALCLOUD_SECOND_REGION", "LOCAL2")
if LOCALCLOUD_SECOND_REGION == LOCALCLOUD_REGION or not re.fullmatch(
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", LOCALCLOUD_SECOND_REGION
):
    raise ImproperlyConfigured(
        "LOCALCLOUD_SECOND_REGION must be a region name (letters, digits, _ . -) other than "
        "LOCALCLOUD_REGION."
    )
LOCALCLOUD_TOKEN_TTL = env.int("LOCALCLOUD_TOKEN_TTL", 24 * 3600, minimum=1)
LOCALCLOUD_TASK_TTL = env.float("LOCALCLOUD_TASK_TTL", 48 * 3600.0, minimum=0.0)
# A running import or export renews its claim at a third of this; one not renewed for this
# long is taken to have lost its worker, and its job is sent again.
LOCALCLOUD_TASK_LEASE = env.float("LOCALCLOUD_TASK_LEASE", 30.0, minimum=1.0)
LOCALCLOUD_MAX_IMAGE_SIZE = env.int("LOCALCLOUD_MAX_IMAGE_SIZE", 40 * 1024**3, minimum=1)
LOCALCLOUD_RATE_LIMIT = env.int("LOCALCLOUD_RATE_LIMIT", 0, minimum=0)  # bytes/s per task
# The image stores an interoperable import writes to; the first is the default.
LOCALCLOUD_STORES = [name.strip() for name in env.str("LOCALCLOUD_STORES", "fast,cheap").split(",")]
if (
    not all(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name) for name in LOCALCLOUD_STORES)
    or len(set(LOCALCLOUD_STORES)) != len(LOCALCLOUD_STORES)
    or any(name.startswith("os_glance_") for name in LOCALCLOUD_STORES)
):
    raise ImproperlyConfigured(
        "LOCALCLOUD_STORES must be distinct store names (a-z, 0-9, _ and -), comma separated."
    )
# Who may use /v2/tasks in a new project: "members" (Rackspace) or "admin" (stock Glance).
LOCALCLOUD_TASKS_API = env.str("LOCALCLOUD_TASKS_API", "members")
if LOCALCLOUD_TASKS_API not in ("members", "admin"):
    raise ImproperlyConfigured('LOCALCLOUD_TASKS_API must be "members" or "admin".')
# Swift's limits: the largest single object (5 GiB + 2 bytes, as Swift) and the SLO
# manifest constraints its /info reports. Larger data is stored as segments plus a manifest.
LOCALCLOUD_MAX_OBJECT_SIZE = env.int("LOCALCLOUD_MAX_OBJECT_SIZE", 5_368_709_122, minimum=1)
LOCALCLOUD_SLO_MAX_MANIFEST_SEGMENTS = env.int(
    "LOCALCLOUD_SLO_MAX_MANIFEST_SEGMENTS", 1000, minimum=1
)
LOCALCLOUD_SLO_MAX_MANIFEST_SIZE = env.int(
    "LOCALCLOUD_SLO_MAX_MANIFEST_SIZE", 8 * 1024**2, minimum=2
)
LOCALCLOUD_SLO_MIN_SEGMENT_SIZE = env.int("LOCALCLOUD_SLO_MIN_SEGMENT_SIZE", 1, minimum=1)
# Segment size of an export larger than LOCALCLOUD_MAX_OBJECT_SIZE (0: that limit itself).
LOCALCLOUD_EXPORT_SEGMENT_SIZE = env.int("LOCALCLOUD_EXPORT_SEGMENT_SIZE", 0, minimum=0)
# Failed token requests per client address and account before a 429 (identity/throttle.py).
LOCALCLOUD_LOGIN_FAILURE_LIMIT = env.int("LOCALCLOUD_LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOCALCLOUD_LOGIN_WINDOW = env.int("LOCALCLOUD_LOGIN_WINDOW", 300, minimum=1)
LOCALCLOUD_FAULT_ERROR_RATE = env.float("LOCALCLOUD_FAULT_ERROR_RATE", 0.0, minimum=0.0)
LOCALCLOUD_FAULT_LATENCY = env.float("LOCALCLOUD_FAULT_LATENCY", 0.0, minimum=0.0)
LOCALCLOUD_FAULT_MALFORMED_RATE = env.float("LOCALCLOUD_FAULT_MALFORMED_RATE", 0.0, minimum=0.0)
LOCALCLOUD_FAULT_UNAUTHORIZED_RATE = env.float(
    "LOCALCLOUD_FAULT_UNAUTHORIZED_RATE", 0.0, minimum=0.0
)
# Stores whose writes fail (comma separated), to test imports that fail in one store.
LOCALCLOUD_FAULT_FAILING_STORES = [
    name.strip()
    for name in env.str("LOCALCLOUD_FAULT_FAILING_STORES", "").split(",")
    if name.strip()
]
for _name in ("ERROR", "MALFORMED", "UNAUTHORIZED"):
    if globals()[f"LOCALCLOUD_FAULT_{_name}_RATE"] > 1:
        raise ImproperlyConfigured(f"LOCALCLOUD_FAULT_{_name}_RATE must be between 0 and 1.")

LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a log level.")
CELERY_JOB_LOGS = env.bool("CELERY_JOB_LOGS", LOG_LEVEL == "DEBUG")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Celery logs each job a worker receives and finishes, and beat each one it
        # sends; with the dispatcher ticking every second that drowns what people
        # look for (task changes, errors). They show with CELERY_JOB_LOGS (on with
        # LOG_LEVEL=DEBUG; the benchmarks count them); a failed job is always logged.
        **{
            name: {"level": "INFO" if CELERY_JOB_LOGS else "WARNING"}
            for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")
        },
        # django-axes says at every start which parameters it locks by.
        "axes.apps": {"level": "WARNING"},
    },
}
if CELERY_BROKER_URL.startswith("filesystem"):
    # A folder has no host name; kombu warns about that each time a connection opens.
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}
