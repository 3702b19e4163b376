from __future__ import annotations

from datetime import date

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.core import pagecache
from krov.housing import index, services


@db_task(retries=3, retry_delay=10)
def recompute_index(months: list[str]) -> int:
    """Recompute the rent index for the months that changed (ISO dates of their first day)."""
    return index.recompute(date.fromisoformat(m) for m in months)


@db_periodic_task(crontab(minute="7"))
def listings_housekeeping() -> None:
    """Hourly: remind posters of listings about to expire; expired ones leave cached pages;
    old conversations and photos of listings that left the board are deleted."""
    services.remind_expiring()
    services.purge_conversations()
    services.purge_photos()
    pagecache.invalidate("housing")
