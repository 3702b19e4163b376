"""The checks behind GET /healthz."""

from __future__ import annotations

import logging
import time

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


CHECKS = {"database": check_database, "queue": check_queue}


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
    return healthy, report
