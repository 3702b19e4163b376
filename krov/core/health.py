"""The checks behind GET /healthz."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import connection
from huey.constants import EmptyData
from huey.contrib.djhuey import HUEY

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "krov:worker-heartbeat"


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "vendor": connection.vendor}


def check_queue() -> dict:
    pending = HUEY.pending_count()
    result: dict = {"status": "ok", "pending": pending, "backend": type(HUEY).__name__}
    beat = HUEY.storage.peek_data(HEARTBEAT_KEY)
    if beat is not EmptyData:
        try:
            seen = float(beat.decode() if isinstance(beat, bytes) else beat)
        except (TypeError, ValueError, UnicodeDecodeError):
            seen = None
        if seen is not None:
            result["worker_seen_seconds_ago"] = round(time.time() - seen, 1)
    return result


def record_heartbeat() -> None:
    """Called by the worker's periodic task; /healthz reports how long ago it ran."""
    HUEY.storage.put_data(HEARTBEAT_KEY, str(time.time()).encode())


CHECKS: dict[str, Callable[[], dict]] = {"database": check_database, "queue": check_queue}


# An app's figures shown beside the checks (e.g. Telegram updates parked for an
# administrator): they say what waits, not whether the server lives.
DETAILS: dict[str, Callable[[], dict]] = {}


def register(name: str, check: Callable[[], dict], *, vital: bool = True) -> None:
    """An app's own part of /healthz (in its AppConfig.ready): `check()` returns a dict
    with a "status" ("ok" or "error") and figures. A vital check that raises makes the
    server unhealthy (503); a detail that raises is reported "unknown" and does not
    (before `migrate`, say, or while the database check already fails). Registering a name
    twice replaces it."""
    DETAILS.pop(name, None)
    CHECKS.pop(name, None)
    (CHECKS if vital else DETAILS)[name] = check


def run_checks() -> tuple[bool, dict]:
    healthy = True
    report: dict = {}
    for name, check in CHECKS.items():
        try:
            report[name] = check()
        except Exception as exc:  # a health check must report every failure, not raise
            healthy = False
            log.warning("health check %s failed: %s", name, type(exc).__name__)
            report[name] = {"status": "error", "error": type(exc).__name__}
    for name, detail in DETAILS.items():
        try:
            report[name] = detail()
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be had is unknown
            log.warning("health detail %s unknown: %s", name, type(exc).__name__)
            report[name] = {"status": "unknown", "error": type(exc).__name__}
    return healthy, report
