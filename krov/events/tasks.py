from __future__ import annotations

from django.utils.translation import override
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.events import services
from krov.events.models import Event, Rsvp


@db_task(retries=3, retry_delay=60)
def email_attendee(rsvp_id: int, kind: str) -> None:
    """Ids in, the address and text read from the database here: nothing personal in the
    queue. Written in the person's language (services.attendee_language)."""
    rsvp = Rsvp.objects.filter(pk=rsvp_id).select_related("event").first()
    if rsvp is None or not services.is_email(rsvp.contact or ""):
        return  # gone, or purged since
    event = Event.objects.prefetch_related("texts").get(pk=rsvp.event_id)
    with override(services.attendee_language(rsvp)):
        notice = event.cancel_notice if kind == "cancelled" else ""
        # The secret link is made here, in the worker, so it never sits in the queue.
        link = services.new_rsvp_link(rsvp) if kind == "link" else ""
        services.email_attendee(rsvp.contact, kind, event, notice, link)


@db_task()
def tell_cancelled_attendees(event_id: int) -> None:
    """A cancellation's undo window has passed: tell its attendees (if nobody undid it)."""
    services.tell_cancelled(event_id)


@db_periodic_task(crontab(minute="*/2"))
def tell_cancelled_sweep() -> None:
    """Cancellations whose nudge was lost (a queue restarted) are told all the same."""
    services.tell_cancelled()


@db_periodic_task(crontab(minute="5"))
def reminders() -> None:
    services.send_reminders()


@db_periodic_task(crontab(minute="41", hour="3"))
def purge_attendees() -> None:
    services.purge_attendees()
