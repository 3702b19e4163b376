from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from krov.directory import services


@db_periodic_task(crontab(minute="0", hour="8", day_of_week="1"))
def stale_guides_reminder() -> None:
    """Every Monday morning: tell the reviewers which guides are past their date."""
    services.tell_reviewers_about_stale_guides()
