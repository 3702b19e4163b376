from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from krov.press import services


@db_periodic_task(crontab(minute="*/15"))
def fetch_press() -> None:
    """Every watched feed, every 15 minutes (one that fails is recorded, never raised)."""
    services.fetch_all()


@db_periodic_task(crontab(day_of_week="1", hour="7", minute="0"))
def weekly_digest() -> None:
    """Monday morning: what the press wrote about us last week, to every editor."""
    services.send_weekly_digest()


@db_periodic_task(crontab(hour="3", minute="40"))
def purge_old_stories() -> None:
    """Every night: stories past KROV_PRESS_KEEP_DAYS that answer nothing are deleted."""
    services.purge_old_stories()
