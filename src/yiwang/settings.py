"""Django settings for yiwang, read from environment variables with safe defaults.

Environment variables (all optional):

- ``YIWANG_DEBUG``            ``1`` turns on DEBUG (never in production). Default off.
- ``YIWANG_SECRET_KEY``       secret key; when unset one is generated once and kept in ``var/secret_key``.
- ``YIWANG_ID_KEY``           key for the keyed hash and SM4 encryption of ID numbers (hex, 32 bytes);
                              derived from the secret key when unset.
- ``DATABASE_URL``            e.g. ``postgres://postgres@127.0.0.1:5432/yiwang``; default SQLite (WAL) in var/.
- ``YIWANG_VAR_DIR``          where data, uploads, indexes and logs live. Default ``<project>/var``.
- ``YIWANG_ALLOWED_HOSTS``    comma separated. Default ``127.0.0.1,localhost``.
- ``YIWANG_HTTPS``            ``1`` when served over HTTPS (secure cookies, HSTS). Default: on unless DEBUG.
- ``YIWANG_SMS_BACKEND``      dotted path of the SMS backend. Default: console (prints codes to the log).
- ``YIWANG_TASKS_BACKEND``    dotted path of the django-tasks backend. Default: the database backend.
- ``YIWANG_OIDC_ISSUER`` …    see ``yiwang.accounts.oidc`` for the unified identity seam.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
_source_root = PACKAGE_DIR.parent.parent
PROJECT_DIR = _source_root if (_source_root / "pyproject.toml").exists() else Path.cwd()
VAR_DIR = Path(os.environ.get("YIWANG_VAR_DIR", PROJECT_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("YIWANG_DEBUG", False)
HTTPS = env_bool("YIWANG_HTTPS", not DEBUG)


def _secret_key() -> str:
    key = os.environ.get("YIWANG_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ID_KEY = os.environ.get("YIWANG_ID_KEY", "")
ALLOWED_HOSTS = env_list("YIWANG_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("YIWANG_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "yiwang.core",
    "yiwang.workdays",
    "yiwang.directory",
    "yiwang.accounts",
    "yiwang.catalog",
    "yiwang.hotline",
    "yiwang.search",
    "yiwang.cases",
    "yiwang.ratings",
    "yiwang.web",
    "yiwang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "yiwang.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

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
                "yiwang.web.context_processors.site",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "yiwang.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("YIWANG_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
        # writers queue (busy timeout) instead of failing with "database is locked" mid-transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Deferred audit events (ratings) are moved into the chain by a per-process background flusher this many
# seconds after a commit woke it; 0 flushes right after each commit. `yiwang serve` sets 0.05 (decision 0008).
AUDIT_FLUSH_DELAY = float(os.environ.get("YIWANG_AUDIT_FLUSH_DELAY_MS", "0")) / 1000
# queued ratings (decision 0018) are added to the rollups this long after a commit; 0: at once (tests, CLI)
RATINGS_ROLLUP_FLUSH_DELAY = float(os.environ.get("YIWANG_RATINGS_ROLLUP_FLUSH_DELAY_MS", "0")) / 1000
# Group commit (decision 0027): good ratings submitted at the same time in one process are written by one
# statement of at most this many ratings (PostgreSQL; an idle server writes each alone at once); 0 or 1: off.
RATINGS_GROUP_COMMIT = int(os.environ.get("YIWANG_RATINGS_GROUP_COMMIT", "32") or 0)

# --- Accounts and security ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["yiwang.accounts.backends.AccountBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (per account and per IP address, counted in the LoginFailure table).
LOGIN_MAX_FAILURES = int(os.environ.get("YIWANG_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("YIWANG_LOGIN_LOCKOUT_SECONDS", "900"))
OTP_TTL_SECONDS = 300
# A process remembers a bearer token's user and memberships this long (0: look them up on every request).
API_TOKEN_CACHE_SECONDS = float(os.environ.get("YIWANG_API_TOKEN_CACHE_SECONDS", "5"))
OTP_MAX_PER_PHONE_PER_HOUR = 5
SMS_BACKEND = os.environ.get("YIWANG_SMS_BACKEND", "yiwang.accounts.sms.ConsoleSmsBackend")
OIDC = {
    "ISSUER": os.environ.get("YIWANG_OIDC_ISSUER", ""),
    "CLIENT_ID": os.environ.get("YIWANG_OIDC_CLIENT_ID", ""),
    "CLIENT_SECRET": os.environ.get("YIWANG_OIDC_CLIENT_SECRET", ""),
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
# Content-Security-Policy, sent by yiwang.core.middleware.SecurityHeadersMiddleware on every response.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
SEARCH_INDEX_DIR = Path(os.environ.get("YIWANG_SEARCH_INDEX_DIR", VAR_DIR / "search-index"))
SEARCH_LOG_BATCH = int(os.environ.get("YIWANG_SEARCH_LOG_BATCH", "50"))  # query-log entries written together
SEARCH_LOG_SECONDS = float(os.environ.get("YIWANG_SEARCH_LOG_SECONDS", "5"))
# write query-log batches from a background thread (`yiwang serve` sets it): searches never wait on the write
SEARCH_LOG_DEFERRED = os.environ.get("YIWANG_SEARCH_LOG_DEFERRED", "0") == "1"
# recent search results remembered per process (popular queries repeat; 0 turns it off), decision 0020
SEARCH_RESULT_CACHE = int(os.environ.get("YIWANG_SEARCH_RESULT_CACHE", "1024"))
# search the whole index through one representative document per content (decision 0022); "0": walk every match
SEARCH_REPRESENTATIVES = os.environ.get("YIWANG_SEARCH_REPRESENTATIVES", "1") != "0"
PRIVATE_FILES_DIR = Path(os.environ.get("YIWANG_PRIVATE_FILES_DIR", VAR_DIR / "private"))

# --- Background jobs (django-tasks API) ----------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("YIWANG_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "yiwang",
    }
}
if os.environ.get("YIWANG_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["YIWANG_REDIS_URL"],
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_ids": {"()": "yiwang.core.logging.MaskIdentifiersFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_ids"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("YIWANG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Working days ---------------------------------------------------------------------------------
# Yellow warning when this many working days or this share of the limit remain (whichever first).
WARNING_YELLOW_WORKDAYS = 2
WARNING_YELLOW_RATIO = 0.2

# --- Cases ----------------------------------------------------------------------------------------
CASE_UPLOAD_MAX_BYTES = int(os.environ.get("YIWANG_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
CASE_UPLOAD_KINDS = ("pdf", "jpeg", "png", "ofd")
IDEMPOTENCY_TTL_HOURS = 24

# --- 好差评 (ratings) ---------------------------------------------------------------------------------
# Defaults and meaning in yiwang.ratings.conf.DEFAULTS; each can be set by environment variable.
PUBLIC_URL = os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000")


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


RATINGS = {
    key: value
    for key, value in {
        "VERIFY_DAYS": _env_int("YIWANG_RATINGS_VERIFY_DAYS"),
        "RECTIFY_DAYS": _env_int("YIWANG_RATINGS_RECTIFY_DAYS"),
        "REVISIT_DAYS": _env_int("YIWANG_RATINGS_REVISIT_DAYS"),
        "LEDGER_MAX_DAYS": _env_int("YIWANG_RATINGS_LEDGER_MAX_DAYS"),
        # Default rating (Guangdong: 7 natural days → 基本满意); off unless set.
        "DEFAULT_AFTER_DAYS": _env_int("YIWANG_RATINGS_DEFAULT_AFTER_DAYS"),
        "DEFAULT_LEVEL": _env_int("YIWANG_RATINGS_DEFAULT_LEVEL"),
        "MAX_PER_PHONE_PER_DAY": _env_int("YIWANG_RATINGS_MAX_PER_PHONE_PER_DAY"),
        "MAX_PER_DEVICE_PER_HOUR": _env_int("YIWANG_RATINGS_MAX_PER_DEVICE_PER_HOUR"),
        "RANKING_MIN_SAMPLE": _env_int("YIWANG_RATINGS_RANKING_MIN_SAMPLE"),
    }.items()
    if value is not None
}
RATINGS["PUBLIC_URL"] = PUBLIC_URL

# --- 12345 hotline ----------------------------------------------------------------------------------
# Dispatch automatically when the suggestion's confidence reaches this (0–1); unset = the agent confirms.
HOTLINE_AUTO_DISPATCH_CONFIDENCE = (
    float(os.environ["YIWANG_HOTLINE_AUTO_DISPATCH"]) if os.environ.get("YIWANG_HOTLINE_AUTO_DISPATCH") else None
)
HOTLINE_MODELS_DIR = Path(os.environ.get("YIWANG_HOTLINE_MODELS_DIR", VAR_DIR / "hotline" / "models"))
HOTLINE_DUPLICATE_DAYS = int(os.environ.get("YIWANG_HOTLINE_DUPLICATE_DAYS", "7"))
# Open311 GeoReport v2: the jurisdiction this endpoint serves (jurisdiction_id may be omitted by clients).
OPEN311_JURISDICTION = os.environ.get("YIWANG_OPEN311_JURISDICTION", "yiwang.local")
