from __future__ import annotations

from django.utils.translation import override
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.events import services
from krov.events.models import Event


@db_task(retries=3, retry_delay=60)
def email_attendee(address: str, kind: str, event_id: int, notice: str, language: str) -> None:
    event = Event.objects.filter(pk=event_id).prefetch_related("texts").first()
    if event is None:
        return
    with override(language):
        services.email_attendee(address, kind, event, notice)


@db_periodic_task(crontab(minute="5"))
def reminders() -> None:
    services.send_reminders()


@db_periodic_task(crontab(minute="41", hour="3"))
def purge_attendees() -> None:
    services.purge_attendees()
