"""How a message reaches the requester: the channels register their relays here."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from krov.aid.models import (
    HelpRequest,
    Message,
)
from krov.aid.services.access import can_write_case, is_coordinator
from krov.aid.services.base import AidError
from krov.aid.services.keys import seal_text, team_key_grant_for, wrapped_case_keys_for
from krov.core import inputs, ratelimit

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


# channel name -> (waiting, reseal): answers a channel holds until a reader hands their case's
# key to the channel's senders (Telegram's outbox keys; see relays_waiting).
# waiting() -> [(message id, the senders' public keys)];
# reseal(message id, {sender key: the case's private key sealed to it}).
_resealers: dict[
    str,
    tuple[Callable[[], list[tuple[int, list[str]]]], Callable[[int, dict[str, str]], bool]],
] = {}


def register_resealer(
    channel: str,
    waiting: Callable[[], list[tuple[int, list[str]]]],
    reseal: Callable[[int, dict[str, str]], bool],
) -> None:
    _resealers[channel] = (waiting, reseal)


def relays_waiting(actor) -> list[dict]:
    """Answers whose channel lost the key they waited under (a restarted worker), for a
    coordinator's browser (or the custodian): it opens the case key and seals it to the
    channel's running senders, which open the stored answer with it themselves, so the
    reader cannot change what is sent. Only a coordinator who holds the team key is asked."""
    if team_key_grant_for(actor) is None:
        return []
    found = []
    for waiting, _reseal in _resealers.values():
        items = dict(waiting())
        if not items:
            continue
        messages = list(Message.objects.filter(pk__in=list(items)).select_related("request"))
        case_keys = wrapped_case_keys_for(actor, [message.request for message in messages])
        for message in messages:
            keys = case_keys.get(message.request_id)
            if keys is None:
                continue
            found.append(
                {
                    "message": str(message.public_id),
                    "case": str(message.request.public_id),
                    "body": message.body,
                    "senders": items[message.pk],
                    **keys,
                }
            )
    return found


def reseal_relay(actor, *, message_id: str, sealed: dict) -> None:
    """A coordinator's browser hands a waiting answer's case key to the senders, sealed to
    their keys (for this one message: the context names it)."""
    if team_key_grant_for(actor) is None:
        raise AidError(_("Only a coordinator who holds the team key can send answers again."))
    message_uuid = inputs.uuid_or_none(message_id)
    message = (
        Message.objects.filter(public_id=message_uuid).select_related("request").first()
        if message_uuid
        else None
    )
    if message is None or not isinstance(sealed, dict):
        raise AidError(_("This answer is not known."))
    reseal = _resealers.get(message.request.channel, (None, None))[1]
    if reseal is None or not reseal(message.pk, sealed):
        raise AidError(_("This answer no longer waits to be sent."))


# channel name -> function(reference) -> (content, content type): the file a requester sent,
# fetched for a reader's browser (which opened the sealed reference) and never stored.
_attachment_fetchers: dict[str, Callable[[str], tuple[bytes, str]]] = {}


def register_attachment_fetcher(channel: str, fetch: Callable[[str], tuple[bytes, str]]) -> None:
    _attachment_fetchers[channel] = fetch


ATTACHMENT_VIEWS_PER_HOUR = 120


def may_see_files(actor, case: HelpRequest) -> bool:
    """The files of a case are for those who read it: its volunteer and coordinators (a
    volunteer to whom it is only offered cannot open its sealed references either)."""
    return is_coordinator(actor) or can_write_case(actor, case)


def fetch_attachment(case: HelpRequest, *, actor, ref: str) -> tuple[bytes, str]:
    """A file a requester sent with a message of this case, for the volunteer on the case or
    a coordinator, whose browser opened its sealed reference and sends it here. The server
    cannot tell that the reference belongs to the case (it is sealed); it serves only those
    who may read the case, only what the channel's bot received, and counts the fetches."""
    if not may_see_files(actor, case):
        raise AidError(_("Only the volunteer on this case and coordinators can see its files."))
    fetch = _attachment_fetchers.get(case.channel)
    if fetch is None:
        raise AidError(_("This case has no files."))
    counted = ratelimit.verdict(
        "aid-attachment", str(actor.pk), limit=ATTACHMENT_VIEWS_PER_HOUR, window=3600
    )
    if counted is ratelimit.Verdict.UNAVAILABLE:
        # Files fail closed while the limits cannot be counted (bulk reading by a stolen
        # account); the person is told it is the server, and that it passes.
        raise AidError(
            _("Krov cannot open files right now: it cannot count them. Try again in a minute.")
        )
    if counted is ratelimit.Verdict.LIMITED:
        raise AidError(_("Too many files opened in the last hour; try again later."))
    return fetch(ref)
