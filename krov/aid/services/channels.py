"""How a message reaches the requester: the channels register their relays here."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation
from django.utils.functional import Promise

from krov.aid.models import (
    HelpRequest,
    Message,
)
from krov.aid.services.keys import seal_text

# channel name -> function(message) that sends it to the requester. The Telegram app
# registers its own; the web channel shows messages on the requester's page.
_relays: dict[str, Callable[[Message], None]] = {}


def register_relay(channel: str, send: Callable[[Message], None]) -> None:
    _relays[channel] = send


# Functions that bring a requester's message to the case's volunteer in their own chat;
# each returns True when it took the message (then no email nudge is needed).
_volunteer_relays: list[Callable[[Message], bool]] = []


def register_volunteer_relay(send: Callable[[Message], bool]) -> None:
    if send not in _volunteer_relays:
        _volunteer_relays.append(send)


def _relay(message: Message) -> None:
    case = message.request
    if case.channel == HelpRequest.Channel.WEB:
        Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENT)
        return
    send = _relays.get(case.channel)
    if send is None:  # stays queued until the channel's app delivers it
        return
    send(message)  # the channel queues it in this same transaction: nothing is lost


def _system_message(case: HelpRequest, text: str | Promise) -> Message:
    """A notice to the requester, in the requester's language (pass a lazy string)."""
    with translation.override(case.language):
        body = str(text)
    message = Message.objects.create(
        request=case,
        direction=Message.Direction.SYSTEM,
        author_alias="Krov",
        body=seal_text(case, "message", body),
    )
    message.plaintext = body  # in memory only: a channel relays it on its way out
    _relay(message)
    return message
