"""Krov's one settings module, configured only from the environment.

Every value a deployment may change is read here through the typed helpers below,
which fail with one line naming the variable and what is wrong with it. The
configuration table in README.md lists them all.
"""

from __future__ import annotations

import os
import re
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from krov.exceptions import SettingsError

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/systemd style)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE", f"cannot read {path}: {exc.strerror}") from exc
    return env_str(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(name, f"expected 1/0, true/false, yes/no or on/off, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {value}")
    return value


def env_decimal(name: str, default: str, *, minimum: str = "0") -> Decimal:
    raw = os.environ.get(name)
    text = default if raw is None or raw.strip() == "" else raw.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SettingsError(name, f"expected a number such as 117.2, got {raw!r}") from None
    if not value.is_finite() or value < Decimal(minimum):
        raise SettingsError(name, f"must be a number of at least {minimum}, got {raw!r}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_env(name: str, default: str) -> dict[str, Any]:
    url = env_secret(name, default)  # a URL with a password may come from NAME_FILE
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
    except (ValueError, KeyError) as exc:
        raise SettingsError(name, f"not a database URL this build understands ({exc})") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise SettingsError(name, "only sqlite:// and postgres:// URLs are supported")
    if engine == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise SettingsError(name, "a sqlite URL needs a file path, e.g. sqlite:///var/krov.db")
        # WAL, synchronous=NORMAL and BEGIN IMMEDIATE: see DESIGN.md's intake figures.
        # Connections are kept (a minute, as on PostgreSQL): opening one runs the PRAGMAs and
        # parses Krov's schema on its first statement, about 1 ms a request
        # (docs/performance.md). A kept connection holds no transaction between requests,
        # so it never holds up a WAL checkpoint.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; "
                # Deleted rows are overwritten with zeros, not left in free pages.
                "PRAGMA secure_delete=ON;"
            ),
        }
    if not config.get("NAME"):
        raise SettingsError(name, "the URL names no database")
    return config


def data_dir_from_env(name: str, *, debug: bool) -> Path:
    """The folder for the SQLite files, queue, keys and mail: a directory Krov may write.

    In development it is created (owner-only); in production it must exist already, so a
    typo cannot scatter data into a fresh folder nobody backs up.
    """
    path = Path(env_str(name, "var")).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(name, f"{path} exists but is not a directory")
    if not path.exists():
        if not debug:
            raise SettingsError(
                name, f"{path} does not exist; create it (owned by Krov's user, mode 700)"
            )
        try:
            path.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise SettingsError(name, f"cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(name, f"{path} is not writable by this user")
    return path


def field_keys_from_env(name: str, *, debug: bool, data_dir: Path) -> list[str]:
    """Fernet keys, newest first. In debug a key is generated once under the data dir."""
    keys = [k.strip() for k in env_secret(name).split(",") if k.strip()]
    if not keys:
        key_file = data_dir / "field-keys.txt"
        if not debug:
            raise SettingsError(
                name,
                "required in production: comma-separated Fernet keys, newest first "
                "(make one with `krov generate-field-key`)",
            )
        if key_file.exists():
            keys = [k.strip() for k in key_file.read_text().split(",") if k.strip()]
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key().decode()
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
            keys = [key]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SettingsError(
                name, f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return keys


# --- core switches ---------------------------------------------------------------------

DEBUG = env_bool("KROV_DEBUG", False)
DATA_DIR = data_dir_from_env("KROV_DATA_DIR", debug=DEBUG)

SECRET_KEY = env_secret("KROV_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise SettingsError("KROV_SECRET_KEY", "required when KROV_DEBUG is off")
    _secret_file = DATA_DIR / "secret-key.txt"
    if _secret_file.exists():
        SECRET_KEY = _secret_file.read_text().strip()
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = secrets.token_urlsafe(50)
        _fd = os.open(_secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(_fd, "w") as _fh:
            _fh.write(SECRET_KEY)
elif len(SECRET_KEY) < 32:
    raise SettingsError("KROV_SECRET_KEY", "must be at least 32 characters long")
SECRET_KEY_FALLBACKS = env_list("KROV_SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("KROV_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise SettingsError("KROV_ALLOWED_HOSTS", "required when KROV_DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("KROV_CSRF_TRUSTED_ORIGINS")

KROV_FIELD_KEYS = field_keys_from_env("KROV_FIELD_KEYS", debug=DEBUG, data_dir=DATA_DIR)

# Number of reverse proxies in front of Krov that append to X-Forwarded-For. Only that
# many hops are trusted; anything a client forges in front of them is ignored.
KROV_TRUSTED_PROXIES = env_int("KROV_TRUSTED_PROXIES", 0)

INSTALLED_APPS = [
    "krov.core",
    "krov.accounts",
    "krov.aid",
    "krov.telegram",
    "krov.events",
    "krov.bulletins",
    "krov.directory",
    "krov.housing",
    "krov.api",
    "krov.press",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "csp",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "krov.core.middleware.RequestCharsetMiddleware",
    "krov.api.middleware.ApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached public pages are answered here, before everything below (krov.core.pagecache).
    "krov.core.pagecache.PageCacheMiddleware",
    "krov.core.middleware.SecurityHeadersMiddleware",
    # The Telegram webhook is answered here: it needs none of what follows.
    "krov.telegram.middleware.WebhookMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "krov.accounts.middleware.RequireMFAMiddleware",
    # A 404 under a page's old slug becomes a 301 to its current one.
    "krov.core.oldslugs.OldSlugMiddleware",
    # A view that failed because the cache is down answers 503 + Retry-After, not 500.
    "krov.core.ratelimit.CacheDownMiddleware",
]

ROOT_URLCONF = "krov.urls"
WSGI_APPLICATION = "krov.wsgi.application"

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
                "krov.core.context_processors.krov",
            ],
        },
    },
]

# --- data ------------------------------------------------------------------------------

DATABASES = {
    "default": database_from_env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'krov.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise SettingsError("REDIS_URL", "expected a redis://, rediss:// or unix:// URL")

CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "krov",
        }
    }
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "krov",
        "url": REDIS_URL,
        "immediate": False,
        # No task result is ever read; stored, a failed task's would keep its exception
        # (an SMTP refusal names the address) in the queue with no expiry.
        "results": False,
        "utc": True,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    # Shared on disk, not per-process memory: gunicorn's workers and the Huey worker must
    # share rate-limit counters and invalidations. SQLite (diskcache), not Django's file
    # cache: `add` and `incr` are transactions, so atomic across processes (rate limits are
    # exact), and a write costs the same with 10 or 100,000 keys (the file cache lists its
    # whole folder on every write). Expired entries are culled as writes go on.
    CACHES = {
        "default": {
            "BACKEND": "krov.core.cache.DiskCache",
            "LOCATION": str(DATA_DIR / "cache-db"),
            "SHARDS": 4,
            # SQLite's busy timeout (seconds); a read that waits longer is a miss.
            "DATABASE_TIMEOUT": 0.05,
            "OPTIONS": {
                "size_limit": 256 * 2**20,
                # Pages stay rows in the database rather than files beside it.
                "disk_min_file_size": 2**20,
            },
        }
    }
    HUEY = {
        "huey_class": "krov.core.queue.EmbeddedHuey",
        "name": "krov",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "results": False,  # as above
        "utc": True,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- accounts and security -------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # The only one: the same hashing work for every outcome; a duress password presses
    # panic and fails exactly like a wrong password (see the module).
    "krov.accounts.backends.KrovBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "core:home"

ACCOUNT_ADAPTER = "krov.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "krov.accounts.forms.SignupForm"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
# Changing one's email address (the key to a password reset) needs the password again, and
# the old address is told, as it is of a password change.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
KROV_LOGIN_FAILURES_PER_ADDRESS = env_int("KROV_LOGIN_FAILURES_PER_ADDRESS", 50, minimum=5)
ACCOUNT_RATE_LIMITS = {
    # Every window is at most an hour, so a hashed client key is forgotten within it.
    # Wrong passwords and wrong second-factor codes: strict per account (the key), loose
    # per address, so a few people behind one NAT or Tor exit cannot lock out everyone.
    "login_failed": f"{KROV_LOGIN_FAILURES_PER_ADDRESS}/15m/ip,5/15m/key",
    "login": "300/1h/ip",
    "signup": "10/1h/ip",
    "reset_password": "10/1h/ip,3/1h/key",
    "reset_password_from_key": "20/1h/ip",
    "change_password": "5/5m/user",
    "confirm_email": "1/3m/key",
    "manage_email": "10/1h/user",
    "reauthenticate": "10/5m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = KROV_TRUSTED_PROXIES
MFA_ADAPTER = "krov.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env_str("KROV_SITE_NAME", "Krov")
# The address people reach Krov at; links in emails are built from it.
KROV_SITE_URL = env_str("KROV_SITE_URL", "http://127.0.0.1:8000")
# Where the community lives: the locality and ISO 3166 country code that schema.org addresses
# (events, organisations) fall back to when the address itself does not say.
KROV_CITY = env_str("KROV_CITY", "Belgrade")
KROV_COUNTRY = env_str("KROV_COUNTRY", "RS")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_PASSKEY_LOGIN_ENABLED = False
KROV_MFA_REQUIRED_ROLES = ("volunteer", "coordinator", "admin")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("KROV_SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("KROV_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if KROV_TRUSTED_PROXIES else None
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("KROV_HSTS_SECONDS", 31536000)
# Both are hard to undo for a self-hoster (preload lists take months; a subdomain without
# HTTPS becomes unreachable): opt in, knowingly. See docs/threat-model.md.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KROV_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("KROV_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: shows a requester's photo that a reader's browser fetched (aid/keys.js).
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- mail --------------------------------------------------------------------------------

EMAIL_HOST = env_str("KROV_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("KROV_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("KROV_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_secret("KROV_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("KROV_EMAIL_TLS", True)
    # A mail server that never answers must not hold a worker thread (and the outbox) forever.
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
    # Mails hold addresses and links: the folder is the owner's alone.
    try:
        (DATA_DIR / "mail").mkdir(mode=0o700, exist_ok=True)
        os.chmod(DATA_DIR / "mail", 0o700)
    except OSError as exc:
        raise SettingsError("KROV_DATA_DIR", f"cannot prepare the mail folder: {exc}") from None
DEFAULT_FROM_EMAIL = env_str("KROV_FROM_EMAIL", "krov@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- languages ---------------------------------------------------------------------------

LANGUAGES = [
    ("ru", _("Russian")),
    ("uk", _("Ukrainian")),
    ("sr", _("Serbian (Cyrillic)")),
    ("sr-latn", _("Serbian (Latin)")),
    ("en", _("English")),
    ("de", _("German")),
]
_language_codes = [code for code, _name in LANGUAGES]
LANGUAGE_CODE = env_str("KROV_DEFAULT_LANGUAGE", "en").lower()
if LANGUAGE_CODE not in _language_codes:
    raise SettingsError(
        "KROV_DEFAULT_LANGUAGE",
        f"unknown language {LANGUAGE_CODE!r}; choose one of {', '.join(_language_codes)}",
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times as each language writes them (genitive months, 24-hour clock); templates
# name a format ("DATE_FORMAT"), krov/core/formats/<locale>/formats.py says what it is.
FORMAT_MODULE_PATH = ["krov.core.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("KROV_TIME_ZONE", "Europe/Belgrade")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise SettingsError("KROV_TIME_ZONE", f"unknown time zone {TIME_ZONE!r}") from None

# --- static files ------------------------------------------------------------------------

STATIC_URL = "/static/"
# Where `krov collectstatic` writes and Krov (whitenoise) serves from: the data directory's
# static/ unless KROV_STATIC_ROOT names another folder, e.g. an image's read-only
# /opt/krov/static built with the code (deploy/Containerfile).
STATIC_ROOT = Path(env_str("KROV_STATIC_ROOT") or DATA_DIR / "static").expanduser().resolve()
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
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG

# --- Telegram (used by the telegram app) -------------------------------------------------

TELEGRAM_BOT_TOKEN = env_secret("TELEGRAM_BOT_TOKEN")
TELEGRAM_WEBHOOK_SECRET = env_secret("TELEGRAM_WEBHOOK_SECRET")
TELEGRAM_API_BASE_URL = env_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
TELEGRAM_CHANNEL_ID = env_str("TELEGRAM_CHANNEL_ID")

# --- logging: ids only, never addresses, agents or message text -------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "scrub": {"()": "krov.core.logging.ScrubRequestFilter"},
        "redact": {"()": "krov.core.logging.RedactFilter"},
    },
    # Times in UTC, ISO 8601 (2026-12-06T03:09:07.212Z), whatever TIME_ZONE: krov.core.logtime.
    "formatters": {
        "plain": {
            "class": "krov.core.logtime.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("KROV_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # django.request and django.server would log the request line with the client.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # httpx logs every request line at INFO, and the Bot API's URL carries the token.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # python-telegram-bot logs each call's parameters (chat ids, answers) at DEBUG.
        "telegram": {"level": "WARNING"},
        # Given a handler here, `krov run_huey` does not add its own unfiltered one.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
ADMINS: list[tuple[str, str]] = []

KROV_OPEN_SIGNUP = env_bool("KROV_OPEN_SIGNUP", True)

# --- mutual aid ------------------------------------------------------------------------

# Closed cases lose their text, notes and contact handles this many days after closing;
# spam after KROV_SPAM_RETENTION_DAYS. What stays is an anonymous record.
KROV_RETENTION_DAYS = env_int("KROV_RETENTION_DAYS", 30, minimum=1)
KROV_SPAM_RETENTION_DAYS = env_int("KROV_SPAM_RETENTION_DAYS", 7, minimum=1)
# An offer not accepted in this many minutes moves on to the next volunteer.
KROV_OFFER_MINUTES = env_int("KROV_OFFER_MINUTES", 30, minimum=1)
# A new volunteer sees only low-sensitivity cases until they have closed this many.
KROV_PROBATION_CASES = env_int("KROV_PROBATION_CASES", 3, minimum=0)
# Longest text a requester or volunteer may send in one go (characters).
KROV_AID_MAX_TEXT = env_int("KROV_AID_MAX_TEXT", 4000, minimum=200)
# A life-or-safety request nobody has answered after this many minutes alerts every
# coordinator (once per case), whatever they chose for notifications.
KROV_AID_CRITICAL_ALERT_MINUTES = env_int("KROV_AID_CRITICAL_ALERT_MINUTES", 30, minimum=1)
# Help requests one client may send per hour through the web form.
KROV_INTAKE_PER_HOUR = env_int("KROV_INTAKE_PER_HOUR", 5, minimum=1)

# --- Telegram ----------------------------------------------------------------------------

# Telegram allows about one message a second per private chat.
KROV_TELEGRAM_CHAT_SPACING_MS = env_int("KROV_TELEGRAM_CHAT_SPACING_MS", 1000)
# Neutral by default: a glance at a phone should reveal nothing.
KROV_TELEGRAM_BOT_NAME = env_str("KROV_TELEGRAM_BOT_NAME", "Roof helper")
KROV_TELEGRAM_BOT_DESCRIPTION = env_str("KROV_TELEGRAM_BOT_DESCRIPTION", "Write /start to begin.")

# --- events ------------------------------------------------------------------------------

# Uploaded files (event covers), served by Krov itself after processing.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

# Attendee names and contacts are deleted this many days after an event; counts stay.
KROV_EVENT_ATTENDEE_DAYS = env_int("KROV_EVENT_ATTENDEE_DAYS", 14, minimum=0)

# --- bulletins ---------------------------------------------------------------------------

# Whether an editor may approve their own bulletin (by default a second editor must).
KROV_BULLETINS_SELF_APPROVAL = env_bool("KROV_BULLETINS_SELF_APPROVAL", False)
# Largest recording an editor may upload (bytes; the proxy in front must allow it too).
KROV_AUDIO_MAX_BYTES = env_int("KROV_AUDIO_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
# Largest MP3 posted to the Telegram channel as audio (the Bot API takes 50 MB); a larger
# one is announced as a link.
KROV_AUDIO_TELEGRAM_MAX_BYTES = env_int("KROV_AUDIO_TELEGRAM_MAX_BYTES", 50_000_000, minimum=1)
# The podcast feed's itunes:explicit flag.
KROV_AUDIO_PODCAST_EXPLICIT = env_bool("KROV_AUDIO_PODCAST_EXPLICIT", False)
# Requests per minute one client may make to the public API.
KROV_API_PER_MINUTE = env_int("KROV_API_PER_MINUTE", 120, minimum=1)

# --- housing -----------------------------------------------------------------------------

# Dinars per euro used to convert RSD rents (each listing and observation keeps the rate used).
KROV_HOUSING_RSD_PER_EUR = env_decimal("KROV_HOUSING_RSD_PER_EUR", "117.2", minimum="1")
# Listings disappear this many days after publishing unless the poster renews them.
KROV_HOUSING_LISTING_DAYS = env_int("KROV_HOUSING_LISTING_DAYS", 30, minimum=1)
# A rent per m² (EUR) outside these bounds is kept, flagged, and left out of the index.
KROV_RENT_PER_M2_MIN = env_decimal("KROV_RENT_PER_M2_MIN", "2")
KROV_RENT_PER_M2_MAX = env_decimal("KROV_RENT_PER_M2_MAX", "60")
# Index cells with fewer observations are shown as "too few data", never as a number.
KROV_RENT_MIN_CELL = env_int("KROV_RENT_MIN_CELL", 5, minimum=1)
# The fair-rent check needs at least this many comparable rents.
KROV_RENT_FAIR_MIN = env_int("KROV_RENT_FAIR_MIN", 10, minimum=1)
# The month the rent index compares with by default ("×2.0 since February 2022").
KROV_RENT_BASE_MONTH = env_str("KROV_RENT_BASE_MONTH", "2022-02")
if not re.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])", KROV_RENT_BASE_MONTH):
    raise SettingsError("KROV_RENT_BASE_MONTH", f"expected YYYY-MM, got {KROV_RENT_BASE_MONTH!r}")
# Conversations about a listing that has left the board are deleted this many days after
# their last message, and the listing's photos this many days after it left.
KROV_HOUSING_RETENTION_DAYS = env_int("KROV_HOUSING_RETENTION_DAYS", 90, minimum=1)
# Messages one member may send to posters per hour.
KROV_HOUSING_MESSAGES_PER_HOUR = env_int("KROV_HOUSING_MESSAGES_PER_HOUR", 20, minimum=1)

# --- operations: readiness, metrics, backups ----------------------------------------------

# Probes reach the app servers directly over plain HTTP, as /healthz does.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^readyz$", r"^metrics$"]
# Counts every answer, page-cache hits included (krov.core.metrics).
MIDDLEWARE.insert(0, "krov.core.metrics.MetricsMiddleware")
# Prometheus presents it as `Authorization: Bearer ...`; unset, /metrics answers 404.
KROV_METRICS_TOKEN = env_secret("KROV_METRICS_TOKEN")
if KROV_METRICS_TOKEN and len(KROV_METRICS_TOKEN) < 32:
    raise SettingsError("KROV_METRICS_TOKEN", "must be at least 32 characters long")
# prometheus-client's multiprocess mode: one folder shared by every gunicorn worker, emptied
# when the service starts; unset, each worker counts its own requests.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise SettingsError("PROMETHEUS_MULTIPROC_DIR", f"{PROMETHEUS_MULTIPROC_DIR} is not a folder")
# `krov upgrade` refuses to migrate without a backup (`krov backup`) this many hours old.
KROV_UPGRADE_BACKUP_HOURS = env_int("KROV_UPGRADE_BACKUP_HOURS", 24, minimum=1)

# --- press watch (krov.press): feeds of the host country's media --------------------------

# Fetch feeds through this proxy, e.g. "http://proxy:3128" or a Tor SOCKS address
# "socks5://127.0.0.1:9050" (SOCKS needs httpx's socks extra); names are then resolved by it.
KROV_PRESS_PROXY = env_str("KROV_PRESS_PROXY")
# Seconds for one fetch, connection and reading together.
KROV_PRESS_TIMEOUT = env_int("KROV_PRESS_TIMEOUT", 20, minimum=1)
# A feed larger than this (bytes, after decompression) is refused.
KROV_PRESS_MAX_BYTES = env_int("KROV_PRESS_MAX_BYTES", 5_000_000, minimum=10_000)
# Private, loopback and link-local addresses may be fetched only in development (no SSRF).
KROV_PRESS_ALLOW_PRIVATE = env_bool("KROV_PRESS_ALLOW_PRIVATE", DEBUG)
# Press stories published and fetched more than this many days ago are deleted, unless a
# bulletin answers them.
KROV_PRESS_KEEP_DAYS = env_int("KROV_PRESS_KEEP_DAYS", 365, minimum=1)
