"""`krov check --deploy`: what a production set-up gets wrong most easily."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

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


@register(Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs=None, **kwargs):
    """With hashed static files (production), a missing staticfiles.json makes every page
    answer 500 ("Missing staticfiles manifest entry"), and one collected from other code
    names files this code does not ship, or misses the ones it added: `krov collectstatic`
    was not run (or was run in development mode) after installing this version."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    storage = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):
        return []  # development: files are served from the apps as they are
    manifest = Path(storage.path(storage.manifest_name))
    hint = (
        f"Run `krov collectstatic --noinput` with production settings (KROV_DEBUG=0) after "
        f"installing or upgrading; static files go to {settings.STATIC_ROOT} "
        "(KROV_STATIC_ROOT)."
    )
    try:
        paths = json.loads(manifest.read_text(encoding="utf-8"))["paths"]
    except FileNotFoundError:
        return [
            Warning(
                f"The static files manifest {manifest} is missing: every page would answer 500.",
                hint=hint,
                id="krov.W020",
            )
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [
            Warning(
                f"The static files manifest {manifest} cannot be read ({type(exc).__name__}).",
                hint=hint,
                id="krov.W020",
            )
        ]
    missing, changed = _static_files_out_of_date(paths, Path(settings.STATIC_ROOT))
    if not missing and not changed:
        return []
    examples = ", ".join(sorted(missing + changed)[:3])
    return [
        Warning(
            f"The static files in {settings.STATIC_ROOT} are stale for the installed code: "
            f"{len(missing)} file(s) missing from the manifest, {len(changed)} changed since "
            f"they were collected (e.g. {examples}). Pages that use them would answer 500 or "
            "serve old files.",
            hint=hint,
            id="krov.W021",
        )
    ]


def _static_files_out_of_date(paths: dict, root: Path) -> tuple[list[str], list[str]]:
    """The static files the installed code ships (staticfiles' finders, as collectstatic
    sees them) that the manifest lacks, and those whose collected copy differs from the
    code's (collectstatic keeps an unhashed copy of each file beside the hashed one)."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    ignore = getattr(apps.get_app_config("staticfiles"), "ignore_patterns", ["CVS", ".*", "*~"])
    missing: list[str] = []
    changed: list[str] = []
    seen: set[str] = set()
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            prefix = getattr(storage, "prefix", None)
            name = (f"{prefix}/{path}" if prefix else path).replace(os.sep, "/")
            if name in seen:
                continue  # the first finder's file wins, as in collectstatic
            seen.add(name)
            if name not in paths:
                missing.append(name)
                continue
            with storage.open(path) as source:
                shipped = hashlib.sha256(source.read()).digest()
            try:
                collected = hashlib.sha256((root / name).read_bytes()).digest()
            except OSError:
                collected = b""
            if collected != shipped:
                changed.append(name)
    return missing, changed
