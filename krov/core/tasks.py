from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.core import health, notify, retention


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    health.record_heartbeat()


@db_task()
def echo(value: str) -> str:
    """A task that does nothing: the consumer test sends it through a real worker."""
    return value


@db_task(retries=4, retry_delay=30)
def deliver_notification(notification_id: int) -> None:
    notify.deliver(notification_id)


@db_periodic_task(crontab(minute="*/2"))
def sweep_notifications() -> None:
    notify.sweep()


@db_periodic_task(crontab(minute="*/10"))
def prune_expired() -> None:
    """Expired cache files and old development mail, delivered notifications: off the disk."""
    retention.prune_file_cache()
    retention.prune_mail_folder()
    notify.purge_delivered()
