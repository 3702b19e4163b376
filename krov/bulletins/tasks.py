from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from krov.bulletins import services


@db_periodic_task(crontab(minute="*"))
def announce_scheduled() -> None:
    """Bulletins whose scheduled time has come: refresh the pages and feeds, post them."""
    services.announce_due()
