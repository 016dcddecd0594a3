"""Settings shared by every environment; everything that differs comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ

from .admin_sign_in import admin_oidc_settings
from .admin_theme import admin_theme_settings
from .database import (
    connection_persistence,
    database_timeouts,
    database_url,
    mysql_timeout_options,
    mysql_tls_options,
    postgres_timeout_options,
    postgres_tls_options,
)
from .storefront_sign_in import storefront_oidc_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The design's 8-hour session, for admin sign-ins as for Cognito's refresh tokens.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
# Database sessions whose one per-request query also reads the user (awsomeshop/sessions.py).
SESSION_ENGINE = "awsomeshop.sessions"
# Django's defaults, stated because the storefront's sign-in depends on them: script never
# reads the session cookie, and Lax (not Strict) still sends it on the top-level redirect back
# from Cognito's hosted UI, which carries the sign-in's state. Production adds Secure.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

INSTALLED_APPS = [
    # The back office's theme (docs/admin.md, "The theme"): before django.contrib.admin so its
    # templates win, and its app config installs its admin site as django.contrib.admin.site.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "shop",
    "points",
    "catalog",
    "orders",
    "notifications",
    "backoffice",
    "storefront",
]

MIDDLEWARE = [
    "shop.http.middleware.RequestIdMiddleware",
    # Answers the load balancer's health checks before host validation (see there).
    "shop.http.health_middleware.HealthCheckMiddleware",
    # After the health checks: the load balancer's probes are not application traffic.
    "shop.http.middleware.MetricsMiddleware",
    "shop.http.middleware.ChunkedBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, Django's user and messages serve the admin and HR's sign-in; the employee API
    # (bearer tokens) skips these three (shop.http.middleware.is_api_request).
    "shop.http.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shop.http.middleware.BrowserAuthenticationMiddleware",
    "shop.http.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The storefront's security headers and its outage page (storefront/middleware.py).
    "storefront.middleware.StorefrontMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out HR login before the password is even checked.
# Then HR's company sign-in (Cognito, OIDC) and passwords, which production with company
# sign-in configured allows only to break-glass superusers (shop/access/admin_sign_in/backends.py).
AUTHENTICATION_BACKENDS = [
    "shop.access.login_backend.LoginLockoutBackend",
    "shop.access.admin_sign_in.backends.CognitoAdminBackend",
    "shop.access.admin_sign_in.backends.PasswordLoginBackend",
    # Employees' sign-in to the storefront (its own Cognito app client); it answers only the
    # storefront's callback, as the admin's backend answers only the admin's.
    "storefront.signin.backends.StorefrontSignInBackend",
]

ROOT_URLCONF = "awsomeshop.urls"
# Seconds a storefront product card's rendering is reused per process (storefront/cards.py);
# kept under the signed image URLs' validity. 0 turns the reuse off.
STOREFRONT_CARD_CACHE_SECONDS = env.int("STOREFRONT_CARD_CACHE_SECONDS", default=300)
# Where e-mails link to (the storefront's address as employees reach it); production derives it
# from APP_DOMAIN.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# A form sent without its CSRF token gets a page that says what to do (the storefront's, or Django's).
CSRF_FAILURE_VIEW = "storefront.errors.csrf_failure"
WSGI_APPLICATION = "awsomeshop.wsgi.application"
ASGI_APPLICATION = "awsomeshop.asgi.application"

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

# DATABASE_URL selects the engine: sqlite:///..., mysql://..., postgres://...; the AWS
# deployment passes the parts instead (see settings/database.py).
DATABASES = {"default": env.db_url_config(database_url(os.environ))}
# Persistent connections, checked before reuse (sized for RDS Proxy; see settings/database.py).
DATABASES["default"].update(connection_persistence(os.environ))
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Django's default isolation on MySQL; the order service relies on it: rows are
            # re-read after select_for_update and see the latest committed values.
            "isolation_level": "read committed",
            # Bounded waits: connect, and every read and write (DB_*_TIMEOUT; settings/database.py).
            **mysql_timeout_options(os.environ),
            **mysql_tls_options(os.environ),
        }
    )
    # The project's engine everywhere, as for PostgreSQL: what production runs is what the tests
    # run (shop/db/backends/mysql: one statement fewer per transaction, no reconnect after a
    # stall, and a rotated password followed when the AWS deployment names the RDS secret).
    DATABASES["default"]["ENGINE"] = "shop.db.backends.mysql"
    if env("DB_SECRET_ARN", default=""):
        DATABASES["default"]["SECRET_ARN"] = env("DB_SECRET_ARN")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {**postgres_timeout_options(os.environ), **postgres_tls_options(os.environ)}
    )
    # This engine adds the client-side read timeout libpq lacks (shop/db/backends/postgresql).
    DATABASES["default"]["ENGINE"] = "shop.db.backends.postgresql"
    DATABASES["default"]["READ_TIMEOUT"] = database_timeouts(os.environ)["read"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout turns lock contention into waiting.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "shop.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# One date and time format on every page (awsomeshop/formats/en/formats.py).
FORMAT_MODULE_PATH = ["awsomeshop.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))

# Product images: S3 (private bucket, signed URLs) when S3_BUCKET_NAME is set, else local media.
AWS_REGION = env("AWS_REGION", default="us-east-2")
S3_BUCKET_NAME = env("S3_BUCKET_NAME", default="")
if S3_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET_NAME,
            "region_name": AWS_REGION,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "querystring_auth": True,
            "querystring_expire": env.int("S3_URL_EXPIRES_SECONDS", default=3600),
            "default_acl": None,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "max-age=86400"},
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shop.access.metered.MeteredBearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["shop.access.permissions.IsActiveEmployee"],
    "DEFAULT_PARSER_CLASSES": ["shop.http.parsers.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shop.http.negotiation.JsonFirstNegotiation",
    "DEFAULT_PAGINATION_CLASS": "shop.http.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["shop.http.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shop.http.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Throttles are set per view (see shop.http.throttling); only order placement has one.
    "DEFAULT_THROTTLE_CLASSES": [],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AWSomeShop employee API",
    "DESCRIPTION": "Catalog, points balance and history, and redemption for employees.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "TransactionTypeEnum": "points.models.PointsTransaction.Type",
        "HealthStatusEnum": ["ok", "error"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.http.openapi.add_error_responses",
    ],
}

# Authentication: Cognito when a pool is configured, the local issuer otherwise.
COGNITO_USER_POOL_ID = env("COGNITO_USER_POOL_ID", default="")
COGNITO_CLIENT_ID = env("COGNITO_CLIENT_ID", default="")
COGNITO_JWKS_URL = env("COGNITO_JWKS_URL", default="")
COGNITO_ISSUER = env("COGNITO_ISSUER", default="")
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=30)
# Verified tokens remembered per process until they expire (shop.auth.verifier); 0 is off.
JWT_VERIFIED_CACHE_SIZE = env.int("JWT_VERIFIED_CACHE_SIZE", default=2048)
LOCAL_ISSUER_KEY_PATH = env(
    "LOCAL_ISSUER_KEY_PATH",
    default=str(
        Path(env("XDG_DATA_HOME", default=str(Path.home() / ".local" / "share")))
        / "awsomeshop"
        / "local-issuer-key.pem"
    ),
)
LOCAL_ISSUER = env("LOCAL_ISSUER", default="awsomeshop-local")
# Production sets it to False for good: without a Cognito pool it refuses to start.
LOCAL_ISSUER_ENABLED = True
LOCAL_CLIENT_ID = env("LOCAL_CLIENT_ID", default="awsomeshop-local-client")

# Who may become an employee on first sign-in (docs/authentication.md, "Provisioning"):
# "roster" links a new identity only to an employee HR registered; "jit" creates one for any
# verified identity, limited to EMPLOYEE_EMAIL_DOMAINS when that is set.
EMPLOYEE_PROVISIONING = env("EMPLOYEE_PROVISIONING", default="roster").strip().lower()
EMPLOYEE_EMAIL_DOMAINS = [
    d.strip().lower().lstrip("@") for d in env("EMPLOYEE_EMAIL_DOMAINS", default="").split(",") if d.strip()
]

# HR sign-in to the admin through the Cognito hosted UI: OpenID Connect authorization code
# flow with PKCE (mozilla-django-oidc). Configured when the admin client, its secret, the
# hosted-UI domain and the pool are set; see docs/authentication.md.
_admin_oidc = admin_oidc_settings(os.environ, region=AWS_REGION)
ADMIN_OIDC_ENABLED: bool = _admin_oidc["ADMIN_OIDC_ENABLED"]
ADMIN_OIDC_ISSUER: str = _admin_oidc["ADMIN_OIDC_ISSUER"]
COGNITO_DOMAIN_URL: str = _admin_oidc["COGNITO_DOMAIN_URL"]
OIDC_RP_CLIENT_ID: str = _admin_oidc["OIDC_RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET: str = _admin_oidc["OIDC_RP_CLIENT_SECRET"]
OIDC_OP_AUTHORIZATION_ENDPOINT: str = _admin_oidc["OIDC_OP_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT: str = _admin_oidc["OIDC_OP_TOKEN_ENDPOINT"]
OIDC_OP_USER_ENDPOINT: str = _admin_oidc["OIDC_OP_USER_ENDPOINT"]
OIDC_OP_JWKS_ENDPOINT: str = _admin_oidc["OIDC_OP_JWKS_ENDPOINT"]
OIDC_OP_LOGOUT_ENDPOINT: str = _admin_oidc["OIDC_OP_LOGOUT_ENDPOINT"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
# Cognito's token endpoint takes a confidential client's secret by HTTP Basic authentication.
OIDC_TOKEN_USE_BASIC_AUTH = True
OIDC_TIMEOUT = 5
OIDC_OP_LOGOUT_URL_METHOD = "shop.access.admin_sign_in.views.cognito_logout_url"
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/admin/login/"
# The Cognito group whose members get the HR role; sign-in re-reads it every time.
COGNITO_HR_GROUP = env("COGNITO_HR_GROUP", default="hr")
# A company sign-in session ends after this long, so a role removed in Cognito does not linger.
ADMIN_OIDC_SESSION_SECONDS = env.int("ADMIN_OIDC_SESSION_SECONDS", default=8 * 3600)
# Password sign-in to the admin; production turns it off when company sign-in is configured,
# except for these superusers (break glass; see docs/authentication.md).
ADMIN_PASSWORD_LOGIN = True
ADMIN_BREAK_GLASS_EMAILS: list[str] = [
    e.strip().lower() for e in env.list("ADMIN_BREAK_GLASS_EMAILS", default=[]) if e.strip()
]

# Employee sign-in to the storefront through the same hosted UI, on its own app client (the
# design's web client); see docs/storefront.md, "Sign-in". The storefront's views and backend
# read these names instead of the library's OIDC_* ones, which are the admin's.
_storefront_oidc = storefront_oidc_settings(os.environ, region=AWS_REGION)
STOREFRONT_OIDC_ENABLED: bool = _storefront_oidc["STOREFRONT_OIDC_ENABLED"]
STOREFRONT_OIDC_CLIENT_ID: str = _storefront_oidc["STOREFRONT_OIDC_CLIENT_ID"]
STOREFRONT_OIDC_CLIENT_SECRET: str = _storefront_oidc["STOREFRONT_OIDC_CLIENT_SECRET"]
STOREFRONT_OIDC_ISSUER: str = _storefront_oidc["STOREFRONT_OIDC_ISSUER"]
STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT: str = _storefront_oidc["STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT"]
STOREFRONT_OIDC_TOKEN_ENDPOINT: str = _storefront_oidc["STOREFRONT_OIDC_TOKEN_ENDPOINT"]
STOREFRONT_OIDC_USER_ENDPOINT: str = _storefront_oidc["STOREFRONT_OIDC_USER_ENDPOINT"]
STOREFRONT_OIDC_JWKS_ENDPOINT: str = _storefront_oidc["STOREFRONT_OIDC_JWKS_ENDPOINT"]
STOREFRONT_OIDC_LOGOUT_ENDPOINT: str = _storefront_oidc["STOREFRONT_OIDC_LOGOUT_ENDPOINT"]
STOREFRONT_OIDC_CALLBACK_URL = "storefront:sign-in-callback"
# The design's 8-hour session; a sign-in never lasts longer, whatever SESSION_COOKIE_AGE says.
STOREFRONT_SESSION_SECONDS = env.int("STOREFRONT_SESSION_SECONDS", default=8 * 3600)
# One-time sign-in links printed by `manage.py storefront_login_url`, for working offline.
# Off unless a settings module turns it on (local and test do); production forces it off.
STOREFRONT_LOCAL_SIGN_IN = False
STOREFRONT_SIGN_IN_LINK_SECONDS = env.int("STOREFRONT_SIGN_IN_LINK_SECONDS", default=15 * 60)

# ---------------------------------------------------------------------------------------------
# Sign-in (Cognito), HR login brute-force protection, rate limits: see docs/authentication.md.
# ---------------------------------------------------------------------------------------------
# Where boto3 sends Cognito API calls (GetUser, to complete access-token profiles). Empty means
# AWS itself; a local emulator is named here. The name is the one boto3 itself reads.
COGNITO_ENDPOINT_URL = env("AWS_ENDPOINT_URL_COGNITO_IDP", default="")
# An unknown `kid` refetches the pool's JWKS at most once per this many seconds.
COGNITO_JWKS_MIN_REFETCH_SECONDS = env.float("COGNITO_JWKS_MIN_REFETCH_SECONDS", default=10.0)
COGNITO_JWKS_TIMEOUT_SECONDS = env.float("COGNITO_JWKS_TIMEOUT_SECONDS", default=3.0)
# One budget per request for JWKS and GetUser together (shop/auth/budget.py).
AUTH_NETWORK_BUDGET_SECONDS = env.float("AUTH_NETWORK_BUDGET_SECONDS", default=5.0)

# Paths answered before host validation and the HTTPS redirect: the load balancer calls them
# by task IP over plain HTTP (shop.http.health_middleware).
HEALTH_CHECK_PATHS = ["/health", "/health/live", "/healthz"]

# Shared by every server process, so rate limits hold across containers: Redis when
# REDIS_URL is set, else a database table (created by the migration shop 0002).
CACHE_TABLE_NAME = "awsomeshop_cache"
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    _redis_options: dict[str, object] = {
        # A stalled cache must not stall orders: the limiter lets an order through when the
        # cache fails (shop.http.throttling), and these bound how long it waits to find out.
        "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
        "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0),
    }
    # ElastiCache's AUTH token, given to the task from Secrets Manager, kept out of the URL.
    if env("REDIS_AUTH_TOKEN", default=""):
        _redis_options["password"] = env("REDIS_AUTH_TOKEN")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "shop.db.cache.LockingDatabaseCache",
            "LOCATION": CACHE_TABLE_NAME,
        }
    }
# The storefront's page chrome (head, header, navigation, footer: the same on every page for a
# language), rendered once per process by the templates' {% cache %} tags. In memory, never shared:
# a network cache would cost more than rendering it.
TEMPLATE_FRAGMENTS_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}
CACHES["template_fragments"] = TEMPLATE_FRAGMENTS_CACHE

# Loaded with the employee by the API's authentication, in one query (shop imports no domain
# app, so the project names the relation).
API_USER_SELECT_RELATED = ["points_account"]

# Product list pages are kept per process this long at most (0 turns the cache off); stock is
# read live and every catalog change invalidates them at once (catalog.page_cache).
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
# Points expire this many months after the grant that brought them; 0 means never
# (points/expiry.py has the policy; expire_points runs daily in the deployment).
POINTS_EXPIRY_MONTHS = env.int("POINTS_EXPIRY_MONTHS", default=0)

# E-mail notifications (notifications/): written to an outbox with the change, sent by
# `send_notifications`. EMAIL_BACKEND: console locally; django_ses.SESBackend in AWS (the task
# role's credentials, AWS_REGION); django.core.mail.backends.filebased.EmailBackend with
# EMAIL_FILE_PATH to keep them as files.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="AWSomeShop <no-reply@awsomeshop.example>")
AWS_SES_REGION_NAME = env("AWS_REGION", default="us-east-2")
AWS_SES_REGION_ENDPOINT_URL = env("AWS_SES_ENDPOINT_URL", default=None)
# Throttling reads the account's quota on every batch: one more API call than sending needs.
AWS_SES_AUTO_THROTTLE = None
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
# A message still "sending" after this long was abandoned by its sender: outcome unknown.
NOTIFICATION_SENDING_TIMEOUT_SECONDS = env.int("NOTIFICATION_SENDING_TIMEOUT_SECONDS", default=600)

# Order placement per employee, e.g. "30/min"; "" switches the limit off.
ORDER_RATE_LIMIT = env("ORDER_RATE_LIMIT", default="30/min") or None

# django-axes: lock an HR login out after AXES_FAILURE_LIMIT failures from one username and IP
# together (so an attacker cannot lock a colleague out from elsewhere), for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The admin form and authenticate() call it "username" (it holds the email); axes would
# otherwise look for USERNAME_FIELD ("email") and count every failure under no username.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "shop.access.client_ip.login_username"
AXES_RESET_ON_SUCCESS = True
# Its start-up banner would otherwise be logged by every management command.
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "shop.access.client_ip.client_ip"
# The lockout page in the admin's look, with the cool-off time and a link back to sign-in.
AXES_LOCKOUT_CALLABLE = "shop.access.lockout.lockout_response"
# axes also records every sign-in (the storefront's employees' too) in its access log, which HR
# reads in the admin. Kept a year, then deleted by the worker's hourly purge (orders.housekeeping);
# 0 keeps them forever.
SIGN_IN_RECORDS_RETENTION_DAYS = env.int("SIGN_IN_RECORDS_RETENTION_DAYS", default=365)
# How many proxies we run in front of Django that append to X-Forwarded-For (the ALB: 1).
# 0 ignores the header, which any client can forge.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Orders: how long an Idempotency-Key is remembered, and when an unfinished one is abandoned.
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_STALE_SECONDS = env.int("IDEMPOTENCY_STALE_SECONDS", default=60)
ORDER_MAX_ATTEMPTS = env.int("ORDER_MAX_ATTEMPTS", default=5)

# Four eyes: a grant or adjustment moving more points than this (a bulk grant counted in
# total) waits for a second HR user's approval instead of being applied.
GRANT_APPROVAL_THRESHOLD = env.int("GRANT_APPROVAL_THRESHOLD", default=10_000)
# The same grant or stock change again within this many minutes needs HR's confirmation
# (shop.admin_kit.repeats): the browser's Back button restores a sent form with a fresh one-time key.
REPEAT_WINDOW_MINUTES = env.int("REPEAT_WINDOW_MINUTES", default=10)

LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()

# Application metrics as CloudWatch EMF lines on stdout (shop/observability/metrics.py, docs/metrics.md).
# On unless METRICS=off; local and test settings turn them off by default.
METRICS_ENABLED = env("METRICS", default="on").lower() not in ("off", "false", "0", "no")
METRICS_ENVIRONMENT = env("METRICS_ENVIRONMENT", default=env("AWSOMESHOP_ENV", default="local"))
METRICS_FLUSH_SECONDS = env.float("METRICS_FLUSH_SECONDS", default=60.0)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shop.observability.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Client errors are answered in JSON and counted; they are not server faults.
        "django.request": {"level": "ERROR"},
    },
}

# The back office's theme (django-unfold): AWSomeShop's name, colours and an HR navigation whose
# entries each follow the permission of the page they open (settings/admin_theme.py).
UNFOLD = admin_theme_settings()
