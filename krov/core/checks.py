"""`krov check --deploy`: what a production set-up gets wrong most easily."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# What Telegram accepts as a webhook's secret_token: 1–256 of A–Z, a–z, 0–9, _ and -.
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@register(Tags.security, deploy=True)
def check_hosts_and_site_url(app_configs=None, **kwargs):
    problems = []
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Warning(
                "KROV_ALLOWED_HOSTS contains '*': any Host header is accepted.",
                hint="List the host names Krov answers to, e.g. krov.example.org.",
                id="krov.W001",
            )
        )
    if not settings.KROV_SITE_URL.startswith("https://"):
        problems.append(
            Warning(
                f"KROV_SITE_URL is {settings.KROV_SITE_URL!r}, not an https:// address: links "
                "in mails and feeds would send people over plain HTTP.",
                hint="Set KROV_SITE_URL=https://your.host",
                id="krov.W002",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_telegram_secret(app_configs=None, **kwargs):
    secret = getattr(settings, "TELEGRAM_WEBHOOK_SECRET", "")
    if secret and not _TELEGRAM_SECRET.fullmatch(secret):
        return [
            Error(
                "TELEGRAM_WEBHOOK_SECRET has characters (or a length) Telegram refuses; "
                "setWebhook would fail and no update would arrive.",
                hint="Use 1–256 of A–Z, a–z, 0–9, _ and -, e.g. `openssl rand -hex 32`.",
                id="krov.E003",
            )
        ]
    return []


@register(Tags.database, deploy=True)
def check_services_answer(app_configs=None, **kwargs):
    from django.db import connections
    from django.db.utils import OperationalError

    problems = []
    for alias in settings.DATABASES:
        try:
            connections[alias].ensure_connection()
        except OperationalError as exc:
            problems.append(
                Error(
                    f"The database {alias!r} does not answer: {str(exc).splitlines()[0]}",
                    hint="Check DATABASE_URL and that the server runs.",
                    id="krov.E004",
                )
            )
    if not problems:
        problems.extend(_superusers())
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        except (redis.RedisError, OSError) as exc:
            problems.append(
                Error(
                    f"Redis does not answer at REDIS_URL: {exc}",
                    hint="Check REDIS_URL and that the server runs.",
                    id="krov.E005",
                )
            )
    return problems


def _superusers():
    from django.contrib.auth import get_user_model
    from django.db.utils import DatabaseError

    try:
        count = get_user_model().objects.filter(is_superuser=True).count()
    except DatabaseError:  # no tables yet, before the first migrate
        return []
    if not count:
        return []
    return [
        Error(
            f"{count} account(s) have the superuser flag, which passes every permission check.",
            hint="Run `krov migrate` (it drops the flag); make administrators with "
            "`krov create-admin`.",
            id="krov.E006",
        )
    ]
