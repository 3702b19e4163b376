"""A bare Django project, the baseline of `make bench-http`: `django-admin startproject`'s
settings (its apps and middleware) with DEBUG off, and two views: "hello" and a one-row
INSERT into SQLite configured as Krov's is (WAL, synchronous=NORMAL, BEGIN IMMEDIATE), or
into PostgreSQL with kept connections, as Krov's (BENCH_BARE_DATABASE_URL)."""

from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = os.environ.get("BENCH_BARE_SECRET_KEY", "bench-bare-" + "x" * 50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "bench.bare.urls"
WSGI_APPLICATION = "bench.bare.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
DATABASES = {
    "default": dj_database_url.parse(os.environ["BENCH_BARE_DATABASE_URL"], conn_max_age=60)
    if os.environ.get("BENCH_BARE_DATABASE_URL")
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_BARE_DATABASE", "bare.sqlite3"),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        },
    }
}
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
