"""Settings shared by every environment."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import dj_email_url
from django.utils.translation import gettext_lazy as _

from guanxi.settings.env import (
    ConfigurationError,
    ensure_home,
    env_bool,
    env_int,
    env_list,
    env_str,
    guanxi_home,
    secret_key,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
GUANXI_HOME = guanxi_home()

SECRET_KEY = secret_key()
DEBUG = env_bool("GUANXI_DEBUG", False)
ALLOWED_HOSTS = env_list("GUANXI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("GUANXI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "guanxi.platform.admin_apps.GuanxiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "guanxi.platform",
    "guanxi.customers",
    "guanxi.timeline",
    "guanxi.sales",
    "guanxi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guanxi.web.middleware.HtmxLoginRedirectMiddleware",
    "guanxi.platform.middleware.WorkspaceMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "guanxi.platform.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
CSRF_FAILURE_VIEW = "guanxi.web.views.csrf_failure"
WSGI_APPLICATION = "guanxi.wsgi.application"
ASGI_APPLICATION = "guanxi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.web.context.membership",
            ],
        },
    },
]


def _database(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj_database_url raises bare ValueError/KeyError on junk
        raise ConfigurationError(f"GUANXI_DATABASE_URL={url!r}: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Embedded mode: WAL lets readers work while one writer writes; IMMEDIATE takes the
        # write lock at BEGIN so concurrent writers queue instead of failing mid-transaction.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                " PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding + prepared statements: PostgreSQL plans a repeated query (token
        # lookup, record fetch) once per connection; planning was most of a request's time.
        config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
    else:
        raise ConfigurationError(
            f"GUANXI_DATABASE_URL={url!r}: only sqlite:// and postgres:// are supported"
        )
    return config


def _default_database_url() -> str:
    return f"sqlite:///{ensure_home() / 'guanxi.sqlite3'}"


DATABASE_URL = env_str("GUANXI_DATABASE_URL") or _default_database_url()
DATABASES = {"default": _database(DATABASE_URL)}
# Covering indexes (INCLUDE columns) serve PostgreSQL; SQLite keeps the key columns and
# works the same, so its warning that the extra columns are ignored is expected.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "platform.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("GUANXI_LANGUAGE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = GUANXI_HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the installed package: `guanxi serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = GUANXI_HOME / "media"

REDIS_URL = env_str("GUANXI_REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

EMAIL_URL = env_str("GUANXI_EMAIL_URL", "console://")
try:
    vars().update(dj_email_url.parse(EMAIL_URL))
except Exception as exc:
    raise ConfigurationError(f"GUANXI_EMAIL_URL={EMAIL_URL!r}: {exc}") from exc
DEFAULT_FROM_EMAIL = env_str("GUANXI_FROM_EMAIL", "guanxi@localhost")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

NINJA_PAGINATION_PER_PAGE = 50

# Lists longer than this export in the background; their files are kept this many days.
EXPORT_BACKGROUND_ROWS = env_int("GUANXI_EXPORT_BACKGROUND_ROWS", 50_000)
EXPORT_KEEP_DAYS = env_int("GUANXI_EXPORT_KEEP_DAYS", 7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GUANXI_LOG_LEVEL", "WARNING")},
    # 4xx answers are the API working as designed, not incidents.
    "loggers": {"django.request": {"level": "ERROR", "propagate": True}},
}
