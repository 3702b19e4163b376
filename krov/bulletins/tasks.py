from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.bulletins import services


@db_periodic_task(crontab(minute="*"))
def announce_scheduled() -> None:
    """Bulletins whose scheduled time has come: refresh the pages and feeds, post them."""
    services.announce_due()


@db_task()
def process_recording(recording_id: int) -> None:
    """Transcode an uploaded recording (idempotent: claimed with a conditional update)."""
    services.process_recording(recording_id)


@db_task()
def process_pending_recording(pending_id: int) -> None:
    """Transcode a recording that waits for a second editor (the reviewer listens to it)."""
    services.process_pending_recording(pending_id)


@db_periodic_task(crontab(minute="*/5"))
def requeue_recordings() -> None:
    """Recordings whose nudge was lost, or that a crashed worker left half done."""
    services.requeue_recordings()
