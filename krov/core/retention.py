"""Every app's retention rules in one list, so `krov purge` and the worker apply them all.

Apps register their purge functions in `AppConfig.ready()`; each takes `now` (or None) and
returns how many things it removed (an int, or a dict of ints by kind).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

_rules: dict[str, tuple[str, Callable[..., int | dict[str, int]]]] = {}


def register(label: str, description: str, rule: Callable[..., int | dict[str, int]]) -> None:
    _rules[label] = (description, rule)


def rules() -> dict[str, tuple[str, Callable[..., int | dict[str, int]]]]:
    return dict(_rules)


def apply_all(now: datetime | None = None) -> dict[str, int | dict[str, int]]:
    """Run every rule; one failing rule is logged and does not stop the others."""
    results: dict[str, int | dict[str, int]] = {}
    for label, (_description, rule) in _rules.items():
        try:
            results[label] = rule(now=now)
        except Exception:
            log.exception("retention rule %s failed", label)
            results[label] = -1
    return results


# --- core's own rules -------------------------------------------------------------------------


def prune_file_cache(now: datetime | None = None) -> int:
    """Caches on disk delete an expired entry only when it is read again (Django's file
    cache) or when later writes cull it (the embedded SQLite cache): delete every expired
    entry now, so nothing past its time stays on disk."""
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache

    from krov.core.cache import DiskCache

    removed = 0
    for alias in settings.CACHES:
        disk: Any = caches[alias]
        if isinstance(disk, DiskCache):
            removed += int(disk.expire())
            continue
        if not isinstance(caches[alias], FileBasedCache):
            continue
        backend: Any = caches[alias]
        # The backend's own helpers: its file list and its expiry test (which deletes).
        for name in backend._list_cache_files():
            try:
                with open(name, "rb") as handle:
                    if backend._is_expired(handle):
                        removed += 1
            except FileNotFoundError:
                continue
    return removed


def prune_mail_folder(now: datetime | None = None) -> int:
    """Development mail lands in files; keep a day of it, not every mail ever sent."""
    folder = getattr(settings, "EMAIL_FILE_PATH", "")
    if not folder or not Path(folder).is_dir():
        return 0
    moment = (now or timezone.now()).timestamp()
    cutoff = moment - timedelta(days=1).total_seconds()
    removed = 0
    for path in Path(folder).iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def prune_sessions(now=None) -> int:
    """Expired sessions go: they hold what only a live session should (a device key)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _detail = Session.objects.filter(expire_date__lt=now or timezone.now()).delete()
    return deleted
