from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.core import health


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    health.record_heartbeat()


@db_task()
def echo(value: str) -> str:
    """A round trip through the queue; used by the consumer test and `krov queue-check`."""
    return value
