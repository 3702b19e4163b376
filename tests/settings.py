"""Test settings: production-like (DEBUG off, keys given) plus test-only conveniences."""

from __future__ import annotations

import os
import tempfile

from cryptography.fernet import Fernet

os.environ.setdefault("KROV_DEBUG", "0")
os.environ.setdefault("KROV_SECRET_KEY", "test-" + "k" * 60)
os.environ.setdefault("KROV_FIELD_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("KROV_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("KROV_SSL_REDIRECT", "0")
os.environ.setdefault("KROV_DATA_DIR", tempfile.mkdtemp(prefix="krov-test-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel test processes (pytest-xdist) each get their own data folder: database, queue,
    # cache and mail of one never meet another's.
    _worker_dir = os.path.join(os.environ["KROV_DATA_DIR"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(_worker_dir, mode=0o700, exist_ok=True)
    os.environ["KROV_DATA_DIR"] = _worker_dir
os.environ["REDIS_URL"] = os.environ.get("KROV_TEST_REDIS_URL", "")
if os.environ.get("KROV_TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["KROV_TEST_DATABASE_URL"]
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['KROV_DATA_DIR']}/test.sqlite3"

from krov.settings import *  # noqa: E402,F403
from krov.settings import DATA_DIR, HUEY, INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.encrypted_app"]

HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests inspect the rate-limit keys; production without Redis uses a shared file cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A code made from the wall clock just before a 30-second boundary is checked just after it:
# accept the neighbouring step, so no test depends on when in the step it runs.
MFA_TOTP_TOLERANCE = 1
