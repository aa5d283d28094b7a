"""Settings for Connector Dashboard, all read from the environment (see the README)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] or default


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters) or, on a development "
            "machine only, DEBUG=1."
        )
    SECRET_KEY = "development-only-key-never-use-in-production-0123456789abcdefghij"

# --- Tenant and Graph ------------------------------------------------------------------------
# No ENTRA_CLIENT_ID means sandbox mode: the built-in sandbox tenant stands in for Entra ID and
# Microsoft Graph, reached in-process through the outbound session's transport adapters. It is
# for development, demos and tests: with DEBUG off it must be asked for (SANDBOX_MODE=1), so a
# deployment that forgot its ENTRA_* settings does not start with demo users anyone may pick.
SANDBOX_MODE = not os.environ.get("ENTRA_CLIENT_ID")
if SANDBOX_MODE and not env_bool("SANDBOX_MODE", DEBUG):
    raise ImproperlyConfigured(
        "ENTRA_CLIENT_ID is not set, so the dashboard would run in sandbox mode (demo users, a "
        "stand-in tenant). Set ENTRA_CLIENT_ID, ENTRA_TENANT_ID and ENTRA_CLIENT_SECRET for a "
        "real tenant, or SANDBOX_MODE=1 for a demo or test deployment (DEBUG=1 implies it)."
    )
SANDBOX_TENANT_ID = "5a4d0b0e-0000-4c0d-9e00-5a4db0c5e7a1"
SANDBOX_LOGIN_ORIGIN = "https://login.sandbox.localhost"
SANDBOX_GRAPH_ORIGIN = "https://graph.sandbox.localhost"

if SANDBOX_MODE:
    ENTRA_TENANT_ID = os.environ.get("ENTRA_TENANT_ID") or SANDBOX_TENANT_ID
    ENTRA_CLIENT_ID = "00000000-0000-4000-8000-00000000da5b"
    ENTRA_CLIENT_SECRET = "sandbox-client-secret"
    _default_authority = f"{SANDBOX_LOGIN_ORIGIN}/{ENTRA_TENANT_ID}"
    _default_graph = f"{SANDBOX_GRAPH_ORIGIN}/beta"
else:
    ENTRA_TENANT_ID = os.environ.get("ENTRA_TENANT_ID", "")
    ENTRA_CLIENT_ID = os.environ["ENTRA_CLIENT_ID"]
    ENTRA_CLIENT_SECRET = os.environ.get("ENTRA_CLIENT_SECRET", "")
    if not ENTRA_TENANT_ID and not os.environ.get("ENTRA_AUTHORITY"):
        raise ImproperlyConfigured("ENTRA_CLIENT_ID is set: set ENTRA_TENANT_ID too.")
    _default_authority = f"https://login.microsoftonline.com/{ENTRA_TENANT_ID}"
    _default_graph = "https://graph.microsoft.com/beta"

ENTRA_AUTHORITY = os.environ.get("ENTRA_AUTHORITY") or _default_authority
GRAPH_BASE_URL = (os.environ.get("GRAPH_BASE_URL") or _default_graph).rstrip("/")
# A CA bundle to trust for outbound HTTPS (e.g. the certificate `sandbox_serve` prints).
OUTBOUND_CA_BUNDLE = os.environ.get("OUTBOUND_CA_BUNDLE", "")
OUTBOUND_TIMEOUT_SECONDS = float(os.environ.get("OUTBOUND_TIMEOUT_SECONDS", "20"))
# One deadline for all the Graph work of a page or API request (attempts and waits together);
# keep it well under the server's worker timeout (the README's gunicorn command uses 30 s).
GRAPH_REQUEST_DEADLINE_SECONDS = float(os.environ.get("GRAPH_REQUEST_DEADLINE_SECONDS", "15"))
# The deadline of Graph work outside a request: commands, scripts, background jobs.
GRAPH_BACKGROUND_DEADLINE_SECONDS = float(
    os.environ.get("GRAPH_BACKGROUND_DEADLINE_SECONDS", "120")
)
# Transport adapters mounted on the outbound session, by URL prefix (dotted paths to classes).
OUTBOUND_ADAPTERS: dict[str, str] = (
    {
        f"{SANDBOX_LOGIN_ORIGIN}/": "sandbox.transport.InProcessTransport",
        f"{SANDBOX_GRAPH_ORIGIN}/": "sandbox.transport.InProcessTransport",
    }
    if SANDBOX_MODE
    else {}
)

# Delegated Graph permissions requested at sign-in.
GRAPH_SCOPES = [
    "https://graph.microsoft.com/DeviceManagementServiceConfig.ReadWrite.All",
    "https://graph.microsoft.com/DeviceManagementApps.Read.All",
]
# Asked for only when a user first opens the App Proxy pages (incremental consent).
APP_PROXY_GRAPH_SCOPES = ["https://graph.microsoft.com/Directory.ReadWrite.All"]
# Asked for when a partner's technician first discovers the GDAP customers (incremental consent).
TENANTS_GRAPH_SCOPES = [
    "https://graph.microsoft.com/DelegatedAdminRelationship.Read.All",
    "https://graph.microsoft.com/CrossTenantInformation.ReadBasic.All",
]
# GDAP relationships are served by Graph v1.0 only: the same host, the v1.0 root.
GRAPH_V1_BASE_URL = os.environ.get("GRAPH_V1_BASE_URL") or (
    GRAPH_BASE_URL.rsplit("/", 1)[0] + "/v1.0"
)
# Only these tenants (ids, comma-separated) may be worked in; empty: every managed tenant.
TENANT_ALLOW_LIST = [value.lower() for value in env_list("TENANT_ALLOW_LIST", [])]
# How many tenants the all-tenants health refresh reads at once.
TENANT_REFRESH_CONCURRENCY = int(os.environ.get("TENANT_REFRESH_CONCURRENCY", "8"))
# One step (request) of the page's refresh reads at most this many tenants, and starts none
# after this many seconds (the rest go to the next step), so it ends within the Graph deadline.
TENANT_REFRESH_CHUNK = int(os.environ.get("TENANT_REFRESH_CHUNK", "64"))
TENANT_REFRESH_STEP_SECONDS = float(
    os.environ.get("TENANT_REFRESH_STEP_SECONDS", str(GRAPH_REQUEST_DEADLINE_SECONDS / 3))
)
# A GDAP relationship ending within this many days shows as "expiring soon".
TENANT_EXPIRY_WARNING_DAYS = int(os.environ.get("TENANT_EXPIRY_WARNING_DAYS", "30"))
# Role given to a user whose ID token carries no dashboard role.
DEFAULT_ROLE = os.environ.get("DEFAULT_ROLE", "Dashboard.Reader")
# Every change must give a reason (else the reason is optional).
AUDIT_REQUIRE_REASON = env_bool("AUDIT_REQUIRE_REASON")
# The audit chain's HMAC key (32+ random characters), kept outside the database. DEBUG and
# sandbox mode fall back to a development key; `check --deploy` refuses that key.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
AUDIT_CHAIN_KEY_IS_DEVELOPMENT = not AUDIT_CHAIN_KEY
if not AUDIT_CHAIN_KEY:
    if not (DEBUG or SANDBOX_MODE):
        raise ImproperlyConfigured(
            "AUDIT_CHAIN_KEY is not set: set it to 32+ random characters (keep it outside the "
            "database and its backups; see docs/audit.md)."
        )
    AUDIT_CHAIN_KEY = "development-only-audit-chain-key-never-use-in-production"
# The id stored with every entry written under AUDIT_CHAIN_KEY; change it when rotating.
AUDIT_CHAIN_KEY_ID = os.environ.get("AUDIT_CHAIN_KEY_ID") or (
    "dev" if AUDIT_CHAIN_KEY_IS_DEVELOPMENT else "k1"
)
# Earlier keys, still needed to verify the entries written under them: a JSON object
# {"<key id>": "<key>", …}.
AUDIT_CHAIN_RETIRED_KEYS: dict[str, str] = json.loads(
    os.environ.get("AUDIT_CHAIN_RETIRED_KEYS") or "{}"
)
# Where `audit_checkpoint` also POSTs each checkpoint (JSON); blank: the log line only.
AUDIT_CHECKPOINT_WEBHOOK_URL = os.environ.get("AUDIT_CHECKPOINT_WEBHOOK_URL", "")
# PostgreSQL two-role set-up: the role the application connects as. `migrate` (run as the
# owner) grants it INSERT/SELECT only on the audit table, full DML on the others.
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "")
# How long after a sync request the dashboard waits to see lastSyncDateTime move.
SYNC_VERIFY_TIMEOUT_SECONDS = int(os.environ.get("SYNC_VERIFY_TIMEOUT_SECONDS", "600"))

# --- The sandbox tenant (sandbox mode and `sandbox_serve` only) ----------------------------------
# Seconds until a requested sync lands (lastSyncDateTime moves); 0 in tests.
SANDBOX_SYNC_DELAY_SECONDS = float(os.environ.get("SANDBOX_SYNC_DELAY_SECONDS", "5"))
# Lifetime of the access tokens the sandbox issues.
SANDBOX_ACCESS_TOKEN_LIFETIME = int(os.environ.get("SANDBOX_ACCESS_TOKEN_LIFETIME", "3600"))
# Graph's page size in the sandbox when a request sets no $top.
SANDBOX_PAGE_SIZE = int(os.environ.get("SANDBOX_PAGE_SIZE", "100"))
# Fault-injection rules for the sandbox's Graph (a JSON list; see sandbox/faults.py).
SANDBOX_FAULTS = os.environ.get("SANDBOX_FAULTS", "")
# The bearer token `/_sandbox/faults` requires; unset, each process makes up its own (and
# `sandbox_serve` prints it).
SANDBOX_FAULTS_TOKEN = os.environ.get("SANDBOX_FAULTS_TOKEN", "")
# The reply URLs registered for the sandbox's app registrations: authorize's `redirect_uri` and
# logout's `post_logout_redirect_uri` must be one of them (AADSTS50011 otherwise). As in Entra,
# a loopback host's port is not compared.
SANDBOX_REDIRECT_URIS = env_list(
    "SANDBOX_REDIRECT_URIS",
    [
        f"http://{host}{path}"
        for host in ("localhost", "127.0.0.1", "[::1]")
        for path in ("/auth/callback/", "/auth/sign-in/", "/tenants/consented/", "/watch/callback/")
    ],
)

# --- Django ----------------------------------------------------------------------------------
_local_hosts = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _local_hosts if DEBUG or SANDBOX_MODE else [])
if SANDBOX_MODE:
    ALLOWED_HOSTS += [".sandbox.localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "template_partials",
    "csp",
    "kernel",
    "dashboard",
    "tenants",
    "connectors",
    "audit",
    "watch",
    "django_celery_beat",
]
if SANDBOX_MODE:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kernel.middleware.GraphDeadlineMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.tenant_routing.TenantRoutingMiddleware",
    "kernel.middleware.SignInRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kernel.middleware.HtmxMessagesMiddleware",
    "kernel.middleware.FaultMiddleware",
    "csp.middleware.CSPMiddleware",
]
if SANDBOX_MODE:
    # Outermost: the sandbox's Graph answers drop the page-only headers added above, and gzip.
    MIDDLEWARE.insert(0, "sandbox.middleware.GraphAnswerMiddleware")

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
AUTH_USER_MODEL = "dashboard.User"
LOGIN_URL = "auth:sign-in"

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
                "dashboard.context_processors.shell",
                "connectors.context_processors.enums",
            ],
        },
    },
]

DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'dashboard.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The queries are short and stop after a page of rows, but their estimated costs can cross
    # jit_above_cost: compiling them would cost more (15–100 ms) than running them.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    # Sessions hold MSAL token caches: server-side in Redis, shared by every worker.
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
WHITENOISE_USE_FINDERS = DEBUG

# --- The watch: background work on Celery (see the README's "The watch") ----------------------
# Redis is the broker when REDIS_URL is set (several workers on several hosts); without it,
# kombu's filesystem transport in DATA_DIR/broker/ (one host: development, demos, tests).
WATCH_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost/"
# The longest a watch task may run: the worker kills it after this (soft limit 30 s before).
WATCH_TASK_TIME_LIMIT_SECONDS = int(os.environ.get("WATCH_TASK_TIME_LIMIT_SECONDS", "600"))
# Redis: an unacknowledged task goes back to the queue after this long (a worker that died
# mid-task); it must exceed the longest task, or a slow task would run twice at once.
WATCH_VISIBILITY_TIMEOUT_SECONDS = int(os.environ.get("WATCH_VISIBILITY_TIMEOUT_SECONDS", "3600"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's transport, each message written whole before a worker can pick it up.
    CELERY_BROKER_TRANSPORT = "watch.filesystem_transport:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(WATCH_BROKER_DIR / "queue"),
        "data_folder_out": str(WATCH_BROKER_DIR / "queue"),
        "control_folder": str(WATCH_BROKER_DIR / "control"),
    }
    for _folder in ("queue", "control"):
        (WATCH_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": WATCH_VISIBILITY_TIMEOUT_SECONDS,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged after it ran, so a killed worker's task runs again elsewhere: every
# watch task is idempotent (a run is keyed by its task id).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = WATCH_TASK_TIME_LIMIT_SECONDS
CELERY_TASK_SOFT_TIME_LIMIT = max(1, WATCH_TASK_TIME_LIMIT_SECONDS - 30)
# Results are the watch's own rows (watch.TaskRun), not a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes a schedule's last send to the database after every send (not every 3 minutes), so
# the watch page's "last sent" and "next" are current.
CELERY_BEAT_SYNC_EVERY = 1
# Worker heartbeats: how often the heartbeat task runs (beat), and after how many missed
# beats the watch page calls a worker silent.
WATCH_HEARTBEAT_SECONDS = int(os.environ.get("WATCH_HEARTBEAT_SECONDS", "60"))
WATCH_HEARTBEAT_MISSED = 3
# How often the watch redeems its refresh token (keeps it alive; finds a revoked one early).
WATCH_CREDENTIAL_CHECK_SECONDS = int(os.environ.get("WATCH_CREDENTIAL_CHECK_SECONDS", "21600"))
# How often beat has the audit chain's head checkpointed (`audit_checkpoint`, see docs/audit.md).
WATCH_AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("WATCH_AUDIT_CHECKPOINT_SECONDS", "900"))
# Sweeps (watch.sweeps): each watched tenant every WATCH_SWEEP_INTERVAL_SECONDS (a tenant may
# override it on its WatchedTenant row), at an offset of its own within the interval; beat runs
# the dispatcher every WATCH_SWEEP_DISPATCH_SECONDS, which sends the sweeps due in the next one.
WATCH_SWEEP_INTERVAL_SECONDS = int(os.environ.get("WATCH_SWEEP_INTERVAL_SECONDS", "300"))
WATCH_SWEEP_DISPATCH_SECONDS = int(os.environ.get("WATCH_SWEEP_DISPATCH_SECONDS", "60"))
# "Sweep all now" on the watch page spreads the sweeps over this many seconds.
WATCH_SWEEP_ALL_SPREAD_SECONDS = float(os.environ.get("WATCH_SWEEP_ALL_SPREAD_SECONDS", "5"))
# How long the watch keeps each sweep's row (the watch page's last/next sweep and lag).
WATCH_SWEEPS_KEPT_HOURS = int(os.environ.get("WATCH_SWEEPS_KEPT_HOURS", "48"))
# Object history (watch.history): state changes are kept this long; beat prunes older ones
# (and sweeps older than WATCH_SWEEPS_KEPT_HOURS) every WATCH_HISTORY_PRUNE_SECONDS.
WATCH_HISTORY_RETENTION_DAYS = int(os.environ.get("WATCH_HISTORY_RETENTION_DAYS", "90"))
WATCH_HISTORY_PRUNE_SECONDS = int(os.environ.get("WATCH_HISTORY_PRUNE_SECONDS", "3600"))
# Throttling budgets (watch.budget), shared by every worker through the cache (Redis): the
# watch's requests per tenant (Intune allows 1,000 per 20 s per app per tenant; the rest is left
# for people using the pages) and across all tenants (Graph: 130,000 per 10 s per app).
WATCH_TENANT_BUDGET_REQUESTS = int(os.environ.get("WATCH_TENANT_BUDGET_REQUESTS", "500"))
WATCH_TENANT_BUDGET_SECONDS = float(os.environ.get("WATCH_TENANT_BUDGET_SECONDS", "20"))
WATCH_APP_BUDGET_REQUESTS = int(os.environ.get("WATCH_APP_BUDGET_REQUESTS", "100000"))
WATCH_APP_BUDGET_SECONDS = float(os.environ.get("WATCH_APP_BUDGET_SECONDS", "10"))
# A request over budget waits this long at most (within the task's Graph deadline); past it the
# sweep is deferred (retried when the budget has room), never sent over the limit.
WATCH_BUDGET_MAX_WAIT_SECONDS = float(os.environ.get("WATCH_BUDGET_MAX_WAIT_SECONDS", "5"))
# Deliveries no worker tried this long after they were made are queued again (beat).
WATCH_NOTIFY_REQUEUE_SECONDS = int(os.environ.get("WATCH_NOTIFY_REQUEUE_SECONDS", "300"))
# The built-in schedules; beat writes them into the database (django-celery-beat) when it
# starts, where further schedules live and can be changed at run time.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "watch heartbeat": {"task": "watch.heartbeat", "schedule": float(WATCH_HEARTBEAT_SECONDS)},
    "audit checkpoint": {
        "task": "watch.audit_checkpoint",
        "schedule": float(WATCH_AUDIT_CHECKPOINT_SECONDS),
    },
    "watch sweeps": {
        "task": "watch.dispatch_sweeps",
        "schedule": float(WATCH_SWEEP_DISPATCH_SECONDS),
    },
    "watch history prune": {
        "task": "watch.prune_history",
        "schedule": float(WATCH_HISTORY_PRUNE_SECONDS),
    },
    "watch credential check": {
        "task": "watch.check_credentials",
        "schedule": float(WATCH_CREDENTIAL_CHECK_SECONDS),
    },
    "watch deliveries requeue": {
        "task": "watch.deliver_pending",
        "schedule": float(WATCH_NOTIFY_REQUEUE_SECONDS),
    },
}
# Fernet keys (comma-separated; the first encrypts, all decrypt) for the watch's stored
# credentials. DEBUG and sandbox mode fall back to a development key; `check --deploy` refuses
# to pass without keys of your own.
WATCH_ENCRYPTION_KEYS = env_list("WATCH_ENCRYPTION_KEYS", [])
WATCH_ENCRYPTION_KEYS_ARE_DEVELOPMENT = not WATCH_ENCRYPTION_KEYS
if not WATCH_ENCRYPTION_KEYS and (DEBUG or SANDBOX_MODE):
    WATCH_ENCRYPTION_KEYS = ["ZGV2ZWxvcG1lbnQtb25seS13YXRjaC1rZXktMDEyMzQ="]
# What the watch's sign-in asks for: everything its tasks read and write in Graph.
WATCH_GRAPH_SCOPES = [*GRAPH_SCOPES, *APP_PROXY_GRAPH_SCOPES]
# How long /healthz waits for the broker before it reports it unreachable.
HEALTHZ_BROKER_TIMEOUT_SECONDS = float(os.environ.get("HEALTHZ_BROKER_TIMEOUT_SECONDS", "2"))
# How long `/healthz` reuses its last broker probe (a load balancer polls it every few seconds;
# each probe opens a broker connection). 0: probe on every request.
HEALTHZ_BROKER_CHECK_SECONDS = float(os.environ.get("HEALTHZ_BROKER_CHECK_SECONDS", "10"))
# How often the watch page refreshes its workers, broker, schedules and runs (htmx).
WATCH_PAGE_REFRESH_SECONDS = int(os.environ.get("WATCH_PAGE_REFRESH_SECONDS", "10"))
# How many runs of each task the watch page keeps.
WATCH_RUNS_KEPT = int(os.environ.get("WATCH_RUNS_KEPT", "50"))
# Alerts: how many consecutive bad observations open an incident (a rule may override it).
WATCH_ALERT_CONSECUTIVE = int(os.environ.get("WATCH_ALERT_CONSECUTIVE", "2"))
# How long the alerts remember a counted sweep key (a redone sweep within it counts once).
WATCH_ALERT_SWEEPS_KEPT_DAYS = int(os.environ.get("WATCH_ALERT_SWEEPS_KEPT_DAYS", "3"))
# The dashboard's public address, for links in notifications (e.g. https://dash.example.com).
WATCH_PUBLIC_URL = os.environ.get("WATCH_PUBLIC_URL", "")
# Notifications (watch/notifications/): how long one send may take, and how often a failed send is
# tried again (exponential backoff from 1 s, capped at WATCH_NOTIFY_RETRY_BACKOFF_MAX_SECONDS).
WATCH_NOTIFY_TIMEOUT_SECONDS = float(os.environ.get("WATCH_NOTIFY_TIMEOUT_SECONDS", "10"))
WATCH_NOTIFY_MAX_RETRIES = int(os.environ.get("WATCH_NOTIFY_MAX_RETRIES", "8"))
WATCH_NOTIFY_RETRY_BACKOFF_MAX_SECONDS = int(
    os.environ.get("WATCH_NOTIFY_RETRY_BACKOFF_MAX_SECONDS", "600")
)
# Webhook URLs must be https (http only for localhost); this allows plain http anywhere.
WATCH_ALLOW_HTTP_WEBHOOKS = env_bool("WATCH_ALLOW_HTTP_WEBHOOKS")
# E-mail channels send through Django's mail settings (an SMTP server).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "connector-dashboard@localhost")
# Scheduled syncs: how long after a run's sync requests the watch reads lastSyncDateTime to see
# whether they landed (Intune's syncs take minutes), and how many runs of each schedule it keeps.
WATCH_SCHEDULED_SYNC_VERIFY_SECONDS = int(
    os.environ.get("WATCH_SCHEDULED_SYNC_VERIFY_SECONDS", "600")
)
WATCH_SCHEDULE_RUNS_KEPT = int(os.environ.get("WATCH_SCHEDULE_RUNS_KEPT", "100"))

# --- JSON API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.api.authentication.EntraBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "kernel.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Connector Dashboard API",
    "DESCRIPTION": (
        "Intune Exchange connectors, Entra Application Proxy connectors and the audit log, acting "
        "as the signed-in user: a bearer token for this app's `access_as_user` scope (Graph is "
        "then called On-Behalf-Of that user), or the browser session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two resources have a `status`: name each enum after its resource.
    "ENUM_NAME_OVERRIDES": {
        "ExchangeConnectorStatusEnum": "connectors.enums.EXCHANGE_CONNECTOR_STATUSES",
        "AppProxyConnectorStatusEnum": "connectors.enums.APP_PROXY_CONNECTOR_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kernel.api.schema.add_error_responses",
        "kernel.api.schema.document_tenant_paths",
    ],
}

# --- Security --------------------------------------------------------------------------------
_secure = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", _secure)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if _secure else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _secure)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO") else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Sign-out posts a form whose response redirects to the identity provider's end-session page;
# browsers apply form-action to that redirect, so the authority's origin must be allowed.
_authority = urlsplit(ENTRA_AUTHORITY)
_form_targets = [SELF] if SANDBOX_MODE else [SELF, f"{_authority.scheme}://{_authority.netloc}"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": _form_targets,
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"msal": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
