"""The notification outbox: `notify()` stores a message for a person and nudges the queue;
`deliver()` writes it in the recipient's language and sends it through their channel.

A kind of message is a `Notice`, defined once (`define`) in its app's `notices.py`: its
subject and body, and the names of the values they take. A notification row stores the
kind and those values, never text: it is written when delivered, in the language the
recipient chose, whatever language the person who caused it was using. The values wait in
the database until then, so they never hold what a case is about.

Channels register themselves here (email is built in; the Telegram app adds its own), so
callers never name a channel; each person chooses one, or none, in their settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import translate_url
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from krov.core.models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The channel a person picks to receive nothing (User.notification_channel).
NONE = "none"
EMAIL = "email"


# --- kinds of message ------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One kind of notification. `subject` and `body` are translatable strings with
    `%(name)s` placeholders for `params` (`ngettext_lazy(..., "count")` picks its plural
    from the value); `prepare`, given the stored values, returns the ones the texts show
    (a date formatted, codes named) and runs in the recipient's language. `security`
    notices reach the person even when they chose to receive none."""

    kind: str
    subject: str | Promise
    body: str | Promise
    params: tuple[str, ...] = ()
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    security: bool = False

    def render(self, values: dict[str, Any]) -> tuple[str, str]:
        shown = self.prepare(dict(values)) if self.prepare else dict(values)
        return str(self.subject % shown), str(self.body % shown)


_notices: dict[str, Notice] = {}


def define(
    kind: str,
    *,
    subject: str | Promise,
    body: str | Promise,
    params: tuple[str, ...] = (),
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    security: bool = False,
) -> Notice:
    """Declare a kind of notification (at import of an app's `notices.py`)."""
    if len(kind) > Notification._meta.get_field("kind").max_length:  # type: ignore[operator]
        raise ValueError(f"notice kind too long: {kind}")
    notice = Notice(kind, subject, body, tuple(params), prepare, security)
    _notices[kind] = notice
    return notice


def notice_for(kind: str) -> Notice | None:
    return _notices.get(kind)


def notices() -> list[Notice]:
    return list(_notices.values())


# --- channels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    label: str | Promise
    wants: Callable[..., bool]  # wants(user): can this channel reach them now?
    send: Callable[[Notification], None]


_channels: list[Channel] = []


def register_channel(
    name: str,
    wants: Callable[..., bool],
    send: Callable[[Notification], None],
    *,
    label: str | Promise | None = None,
) -> None:
    """Add a channel, tried before email for people who have not chosen one."""
    global _channels
    _channels = [c for c in _channels if c.name != name]
    _channels.insert(0, Channel(name, label or name.capitalize(), wants, send))


def _always(user) -> bool:
    return True


def _all_channels() -> list[Channel]:
    return [*_channels, Channel(EMAIL, _("Email"), _always, _send_email)]


def available_channels(user) -> list[tuple[str, str | Promise]]:
    """The channels that can reach `user` now, as (name, label): email, and e.g. Telegram
    once they linked a chat. What their settings offer (besides none)."""
    return [(c.name, c.label) for c in _all_channels() if c.wants(user)]


def route(user, *, security: bool = False) -> tuple[str, Callable[[Notification], None]] | None:
    """The channel a notification to `user` goes through now, or None: they chose none.

    The channel they chose; if it cannot reach them now (a chat unlinked), email. Not chosen
    yet: the first channel that can reach them, email last. `security` notices ignore a
    choice of none."""
    choice = user.notification_channel
    if choice == NONE:
        if not security:
            return None
        choice = ""
    for channel in _all_channels():
        if (not choice or choice == channel.name) and channel.wants(user):
            return channel.name, channel.send
    return EMAIL, _send_email


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


# --- the outbox ------------------------------------------------------------------------------


def notify(
    recipient,
    notice: Notice,
    *,
    params: dict[str, Any] | None = None,
    link: str = "",
    ref: str = "",
) -> Notification:
    """Queue a notification. Call inside the transaction that caused it. `params` are the
    values the notice's texts name (JSON: ids, names, dates as ISO text), nothing else."""
    values = dict(params or {})
    if set(values) != set(notice.params):
        raise ValueError(
            f"notice {notice.kind} takes {sorted(notice.params)}, not {sorted(values)}"
        )
    if _notices.get(notice.kind) is not notice:
        raise ValueError(f"notice {notice.kind} is not defined (notify.define)")
    notification = Notification.objects.create(
        recipient=recipient, kind=notice.kind, params=values, link=link, ref=ref
    )
    from krov.core import tasks

    transaction.on_commit(lambda: tasks.deliver_notification(notification.pk))
    return notification


def language_of(user) -> str:
    """The language to write to `user` in: theirs, or the site's default."""
    from krov.core.services import interface_languages

    language = getattr(user, "language", "") or ""
    return language if language in interface_languages() else settings.LANGUAGE_CODE


def render(notification: Notification) -> tuple[str, str]:
    """Subject and body in the active language. Rows from before notices kept their text."""
    if notification.subject or notification.body:
        return notification.subject, notification.body
    notice = _notices.get(notification.kind)
    if notice is None:
        raise LookupError(f"no notice of kind {notification.kind}")
    return notice.render(notification.params or {})


def localised_link(link: str, language: str) -> str:
    """A page's path in `language` ("/en/aid/console/" -> "/ru/aid/console/")."""
    if not link or not link.startswith("/"):
        return link
    source = translation.get_language_from_path(link)
    if not source or source == language:
        return link
    with translation.override(source):
        return translate_url(link, language)


def deliver(notification_id: int) -> bool:
    """Send one pending notification; idempotent (claims the row before sending)."""
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.Status.PENDING, attempts__lt=MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    notice = _notices.get(notification.kind)
    found = route(recipient, security=bool(notice and notice.security))
    if found is None:
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.SKIPPED, channel=NONE
        )
        return False
    name, send = found
    language = language_of(recipient)
    with translation.override(language):
        try:
            notification.subject, notification.body = render(notification)
        except LookupError:
            logger.error("notification %s has an unknown kind", notification.pk)
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.FAILED
            )
            return False
        notification.link = localised_link(notification.link, language)
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
    """Notifications are a delivery queue, not a history: sent (and skipped) ones go after a
    week, failed ones after a month."""
    from django.db.models import Q

    now = now or timezone.now()
    deleted, _detail = Notification.objects.filter(
        Q(
            status__in=[Notification.Status.SENT, Notification.Status.SKIPPED],
            created_at__lt=now - timedelta(days=7),
        )
        | Q(status=Notification.Status.FAILED, created_at__lt=now - timedelta(days=30))
    ).delete()
    return deleted
