"""Settings, read from the environment (see README, "Configuration").

With nothing set the project runs the demo: a SQLite file beside manage.py and Celery tasks
executed in-process. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from pension.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# SQLite is the demo's database only, so it implies the demo's DEBUG unless told otherwise.
_DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DEBUG = env_bool("DEBUG", default=_DATABASE_URL.startswith("sqlite"))

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Only the demo and the tests get here; a deployment sets SECRET_KEY.
    SECRET_KEY = "insecure-demo-key-never-used-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "health_check",
    "pension",
    "enrollment",
    "collection",
    "reconciliation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "pension.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pension.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pension.middleware.AccessLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pension.urls"
WSGI_APPLICATION = "pension.wsgi.application"

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
                "pension.context_processors.navigation",
            ],
            "builtins": ["pension.templatetags.choices"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A kept connection is checked before a request reuses it: after a database restart
        # the first request reconnects instead of failing on the dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs tasks in-process while pages are served; waiting beats "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "pension.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "enrollment:home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end libraries come from the npm registry at set-up (offices run on closed networks).
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/swagger-ui", BASE_DIR / "node_modules" / "swagger-ui-dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", default=False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# Where the police and departments deliver their exports for the scheduled comparisons.
IMPORT_INBOX = Path(env_str("IMPORT_INBOX") or MEDIA_ROOT / "inbox")
# 双限 for village agents when a province has no contribution schedule for the year (a schedule
# carries its own limits, edited in the admin): days a receipt may stay unremitted, and yuan.
CASH_LIMIT_DAYS = env_int("CASH_LIMIT_DAYS", 10)
# An exported workbook holds personal data: its file is deleted this many days after it was
# written (the job stays, as the record of who exported what and when).
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7)
CASH_LIMIT_AMOUNT = env_str("CASH_LIMIT_AMOUNT") or "10000.00"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Redis as the shared cache where configured; the demo keeps an in-process cache.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: in-process with no broker (demo), Redis otherwise.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
# Tasks are acknowledged when they end (pension.celery.JobTask): a worker that dies leaves its
# task on the broker, which hands it out again after TASK_VISIBILITY_TIMEOUT seconds. That must
# exceed the longest task (a county's full export: minutes); the job's lease keeps a second
# delivery from doing the work twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
_VISIBILITY_TIMEOUT = env_int("TASK_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # Workers look for such tasks every 10 seconds (sooner with a shorter timeout).
    "unacked_restore_interval": max(1, min(10, _VISIBILITY_TIMEOUT // 2)),
    "unacked_restore_throttle": 1,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Named queues, so that a county adds workers where the work is (README, "Production"): the
# uploads and the scheduled comparisons, reconciliations, exports, notices and 双限, the other
# periodic work; what a page waits for and is quick (proxy batches) on the default queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
TASK_QUEUES = ["default", "imports", "reconciliation", "exports", "notices", "periodic"]
# A worker started without -Q serves them all; the health check wants a worker on each.
CELERY_TASK_QUEUES = [Queue(name) for name in TASK_QUEUES]
CELERY_TASK_ROUTES = {
    "enrollment.tasks.run_import_job": {"queue": "imports"},
    "enrollment.tasks.collect_inbox": {"queue": "imports"},
    "reconciliation.tasks.run_statement_job": {"queue": "imports"},
    "reconciliation.tasks.run_reconciliation": {"queue": "reconciliation"},
    "reconciliation.tasks.reconcile_last_month": {"queue": "reconciliation"},
    "pension.tasks.run_export_job": {"queue": "exports"},
    "pension.tasks.expire_export_files": {"queue": "exports"},
    "collection.tasks.schedule_notices": {"queue": "notices"},
    "collection.tasks.check_cash_limits": {"queue": "notices"},
    "collection.tasks.snapshot_progress": {"queue": "periodic"},
    "collection.tasks.generate_proxy_batches": {"queue": "periodic"},
    "collection.tasks.publish_weekly_bulletins": {"queue": "periodic"},
    "enrollment.tasks.scan_benefits_due": {"queue": "periodic"},
    "collection.tasks.generate_proxy_batch": {"queue": "default"},
    "collection.tasks.post_proxy_batch": {"queue": "default"},
}
CELERY_TIMEZONE = TIME_ZONE
# Workers and beat log through LOGGING below (JSON, ID numbers masked), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"

# The REST API is the tax bureau's sync API (reconciliation/api/): keys only, JSON only, and one
# error body for every error.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["reconciliation.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["reconciliation.api.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "reconciliation.api.errors.exception_handler",
}
# The docs page loads Swagger UI from this project's static files (npm's swagger-ui-dist):
# offices run on closed networks, and no page may pull code from a CDN.
_SWAGGER_UI = f"/{STATIC_URL.strip('/')}/vendor/swagger-ui"
SPECTACULAR_SETTINGS = {
    "TITLE": "城乡居民基本养老保险参保征缴 API",
    "DESCRIPTION": (
        "税务局同步接口。请求头 `Authorization: Bearer <密钥>`，密钥按县发放。"
        "所有错误的响应体均为 "
        '`{"error": {"code": "机器代码", "message": "中文说明", "details": ...}}`。'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are readable without a key; the endpoints they describe are not.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": _SWAGGER_UI,
    "SWAGGER_UI_FAVICON_HREF": f"{_SWAGGER_UI}/favicon-32x32.png",
}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username
# from one address, that username is refused there for LOGIN_LOCKOUT_MINUTES, right password
# or not. Keyed on both, so that a guesser cannot lock a colleague out from another desk.
# `manage.py axes_reset_username NAME` lifts a lockout at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "pension.auth.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The page says how long to wait; a try while waiting does not start the wait again.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "pension.views.login_locked_out"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS (a reverse proxy that terminates TLS and sets X-Forwarded-Proto): secure cookies,
# plain HTTP redirected, and browsers told to use HTTPS only (HSTS). The health check stays
# reachable over plain HTTP for a monitor on the same network.
HTTPS = env_bool("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
# Subdomains of the application's own host only (HSTS applies below the host that sends it).
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The language switch (English for maintainers) is remembered for a year on that browser.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Logs go to standard output, one JSON object a line in production (LOG_FORMAT=plain for plain
# lines; the demo's default), with every ID number masked (pension/logs.py). The access log
# (logger pension.access) has a line for every API read and every file of personal data
# downloaded: who, when, what.
LOG_FORMAT = env_str("LOG_FORMAT") or ("plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "pension.logs.MaskedFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "pension.logs.MaskedJsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
}
