"""The checks behind GET /readyz: may this process take traffic now?

/healthz says the process lives (liveness: restart it when it does not answer). /readyz says
whether it can serve: the database answers a query, Redis answers when the cache or the queue
uses it, and every migration this code knows is applied (a new release started before
`krov migrate` ran must not be sent requests). A load balancer or an orchestrator takes a
server out of rotation while it answers 503, and puts it back when it answers 200.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

log = logging.getLogger(__name__)

# Once every migration is applied in this process it stays so (a rollback is an operator's
# deliberate act, followed by a restart): later probes skip loading the migration graph.
_migrations_applied = False


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}


def _cache_uses_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _queue_uses_redis() -> bool:
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    return isinstance(HUEY.storage, RedisStorage)


def uses_redis() -> bool:
    return _cache_uses_redis() or _queue_uses_redis()


def check_redis() -> dict:
    if _cache_uses_redis():
        # A round trip through the cache's own client: raises when Redis does not answer.
        caches["default"].get("krov:readyz:probe")
    if _queue_uses_redis():
        from huey.contrib.djhuey import HUEY

        HUEY.storage.conn.ping()
    return {"status": "ok"}


def check_migrations() -> dict:
    global _migrations_applied
    if _migrations_applied:
        return {"status": "ok"}
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return {"status": "error", "unapplied": len(plan)}
    _migrations_applied = True
    return {"status": "ok"}


def checks() -> dict[str, Callable[[], dict]]:
    found: dict[str, Callable[[], dict]] = {"database": check_database}
    if uses_redis():
        found["redis"] = check_redis
    found["migrations"] = check_migrations
    return found


def run_checks() -> tuple[bool, dict]:
    """(ready, {check name: {"status": "ok" | "error", ...}}). Once the database fails, the
    migrations are not looked at (they would fail for the same reason)."""
    ready = True
    report: dict = {}
    for name, check in checks().items():
        if name == "migrations" and report.get("database", {}).get("status") == "error":
            report[name] = {"status": "error", "error": "database unavailable"}
            continue
        try:
            report[name] = check()
        except Exception as exc:  # a readiness probe reports every failure, never raises
            log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            report[name] = {"status": "error", "error": type(exc).__name__}
        if report[name]["status"] != "ok":
            ready = False
    return ready, report
