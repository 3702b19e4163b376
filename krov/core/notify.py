"""The notification outbox: `notify()` stores a message for a person and nudges the queue;
`deliver()` sends it through the person's channel. Channels register themselves here
(email is built in; the Telegram app adds its own), so callers never name a channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from krov.core.models import Notification

MAX_ATTEMPTS = 5

# name -> (wants(user) -> bool, send(notification) -> None). Tried in order; email last.
_channels: list[tuple[str, Callable[..., bool], Callable[[Notification], None]]] = []


def register_channel(
    name: str, wants: Callable[..., bool], send: Callable[[Notification], None]
) -> None:
    global _channels
    _channels = [c for c in _channels if c[0] != name]
    _channels.insert(0, (name, wants, send))


def _send_email(notification: Notification) -> None:
    link = notification.link
    if link and not link.startswith("http"):
        link = settings.KROV_SITE_URL.rstrip("/") + link
    body = notification.body + (f"\n\n{link}" if link else "")
    send_mail(
        notification.subject,
        body,
        None,
        [notification.recipient.email],
        fail_silently=False,
    )


def notify(
    recipient, kind: str, *, subject: str, body: str, link: str = "", ref: str = ""
) -> Notification:
    """Queue a notification. Call inside the transaction that caused it."""
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, subject=str(subject), body=str(body), link=link, ref=ref
    )
    from krov.core import tasks

    transaction.on_commit(lambda: tasks.deliver_notification(notification.pk))
    return notification


def deliver(notification_id: int) -> bool:
    """Send one pending notification; idempotent (claims the row before sending)."""
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.Status.PENDING, attempts__lt=MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    for name, wants, send in [*_channels, ("email", lambda user: True, _send_email)]:
        if not wants(notification.recipient):
            continue
        try:
            send(notification)
        except Exception:
            if notification.attempts >= MAX_ATTEMPTS:
                Notification.objects.filter(pk=notification.pk).update(
                    status=Notification.Status.FAILED
                )
            raise
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.SENT, sent_at=timezone.now(), channel=name
        )
        return True
    return False


def sweep(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Deliver what a lost nudge left behind; returns how many were tried."""
    cutoff = timezone.now() - older_than
    ids = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS
        ).values_list("pk", flat=True)[:200]
    )
    for pk in ids:
        try:
            deliver(pk)
        except Exception:  # noqa: S112 - one failing address must not stop the sweep
            continue
    return len(ids)


def forget_references(needles: list[str]) -> int:
    """Delete notifications whose link or reference names any of `needles` (the ids of a
    purged case and its offers): nothing in the outbox keeps pointing at it."""
    from django.db.models import Q

    query = Q()
    for needle in needles:
        if needle:
            query |= Q(link__contains=needle) | Q(ref__contains=needle)
    if not query:
        return 0
    deleted, _detail = Notification.objects.filter(query).delete()
    return deleted


def purge_delivered(now=None) -> int:
    """Notifications are a delivery queue, not a history: sent ones go after a week, failed
    ones after a month."""
    from django.db.models import Q

    now = now or timezone.now()
    deleted, _detail = Notification.objects.filter(
        Q(status=Notification.Status.SENT, created_at__lt=now - timedelta(days=7))
        | Q(status=Notification.Status.FAILED, created_at__lt=now - timedelta(days=30))
    ).delete()
    return deleted
