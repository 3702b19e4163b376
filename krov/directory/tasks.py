from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.directory import services


@db_periodic_task(crontab(minute="0", hour="8", day_of_week="1"))
def stale_guides_reminder() -> None:
    """Every Monday morning: tell the reviewers which guides are past their date."""
    services.tell_reviewers_about_stale_guides()


@db_task(retries=3, retry_delay=30)
def tell_rejected_proposer(proposal_id: int) -> None:
    """A rejection's undo window has passed: tell its proposer (if nobody undid it)."""
    services.tell_rejected(proposal_id)


@db_periodic_task(crontab(minute="*/2"))
def tell_rejected_proposers() -> None:
    """The rejections whose nudge was lost: the database row is the truth."""
    services.tell_rejected()
