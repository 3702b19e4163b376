"""The Telegram channel's services: chats, sending, the relay in both directions, volunteer
linking, channel posts and parked updates. Other apps call these; the aid app is reached
only through its services and the hooks it offers (register_relay, register_volunteer_relay,
notify)."""

from __future__ import annotations

import functools
import html
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import override

from krov.accounts import services as account_services
from krov.core import audit, notify, ratelimit
from krov.core.models import AuditEvent
from krov.telegram import chat_ids, client, outbox, outbox_keys
from krov.telegram.models import Chat, LinkCode, Outbound, Update

log = logging.getLogger(__name__)

LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINK_MINUTES = 10
DIALOGUE_LANGUAGES = ("uk", "ru", "en", "sr-latn")


class TelegramError(Exception):
    """A request about the Telegram channel that cannot be done; the message is for people."""


def chat_key(chat_id: int | str) -> str:
    return chat_ids.chat_key(chat_id)


def chat_for(chat_id: int | str) -> Chat | None:
    return chat_by_key(chat_key(chat_id))


def chat_by_key(key: str) -> Chat | None:
    """The chat row with this key, or None. The webhook asks it for every update, so it is
    one plain SELECT written once per process, its values converted as the ORM would
    (building it with the ORM, above all with the case and volunteer joined, cost more than
    the rest of the update); the case and the volunteer load when asked for."""
    db = connections[Chat.objects.db]
    sql, names, converters = _chat_by_key_statement(db.alias)
    with db.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, functions, expression in converters:
        for function in functions:
            values[position] = function(values[position], expression, db)
    return Chat.from_db(db.alias, names, values)


@functools.cache
def _chat_by_key_statement(alias: str) -> tuple[str, list[str], list[tuple[int, list, Any]]]:
    db = connections[alias]
    quote = db.ops.quote_name
    fields = Chat._meta.concrete_fields
    columns = ", ".join(quote(str(field.column)) for field in fields)
    key = quote(str(Chat._meta.get_field("key").column))
    # Names from the model; the key always as a parameter.
    sql = f"SELECT {columns} FROM {quote(Chat._meta.db_table)} WHERE {key} = %s"  # noqa: S608
    converters = []
    for position, field in enumerate(fields):
        # What the ORM's compiler applies to a column: the backend's, then the field's.
        expression = field.get_col(Chat._meta.db_table)
        functions = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
        if functions:
            converters.append((position, functions, expression))
    return sql, [field.attname for field in fields], converters


def chat_of_case(case) -> Chat | None:
    """The requester's chat of a Telegram case."""
    if not case.contact_lookup or case.channel != "telegram":
        return None
    return Chat.objects.filter(contact_lookup=case.contact_lookup).first()


def dialogue_language(hint: str | None) -> str:
    """The bot's language for a Telegram language_code; Ukrainian when we cannot tell."""
    code = (hint or "").lower().split("-")[0]
    if code in {"sr", "hr", "bs", "me"}:
        return "sr-latn"
    return code if code in DIALOGUE_LANGUAGES else "uk"


def get_or_create_chat(
    chat_id: int | str, *, language_hint: str | None = None, live: set[str] | None = None
) -> Chat:
    """The chat with this id (made on its first update); its id is sealed to the running
    workers, never stored where the server's keys open it (chat_ids). `live`: the running
    workers' keys if the caller has just asked (`chat_ids.live_keys()`)."""
    key = chat_key(chat_id)
    live = chat_ids.live_keys() if live is None else live
    chat = chat_by_key(key)
    if chat is None:
        try:
            with transaction.atomic():
                chat = Chat.objects.create(
                    key=key,
                    language=dialogue_language(language_hint),
                    contact_lookup=chat_ids.contact_lookup(key),
                    sealed_id=chat_ids.seal_for_workers(int(chat_id), key, live),
                )
        except IntegrityError:  # the same chat's other update made it meanwhile
            chat = Chat.objects.get(key=key)
    chat.seen_id = int(chat_id)
    chat_ids.remember(chat, int(chat_id), live=live)
    return chat


_DIALOGUE_FIELDS = frozenset({"language", "skill_slug", "request", "volunteer"})


def set_dialogue_state(chat: Chat, state: str, **fields: Any) -> None:
    """Move the requester's dialogue to `state`, changing only the named chat fields
    (language, skill_slug, request, volunteer). The dialogue saves no Chat itself."""
    unknown = set(fields) - _DIALOGUE_FIELDS
    if unknown:
        raise TypeError(f"not a dialogue field: {sorted(unknown)}")
    if "language" in fields and fields["language"] not in DIALOGUE_LANGUAGES:
        fields["language"] = "en"
    chat.state = state
    for name, value in fields.items():
        setattr(chat, name, value)
    chat.save(update_fields=["state", *fields])


def detach_volunteer(chat: Chat) -> None:
    """The chat no longer speaks for its volunteer (a lost factor, a lock, /unlink); its id
    is no longer kept under the field keys."""
    chat.volunteer = None
    chat.chat_id = ""
    chat.save(update_fields=["volunteer", "chat_id"])


def forget_chat(chat: Chat, text: str) -> None:
    """The requester's /forget: the chat row goes; `text` (already in the chat's
    language) confirms it, sent to the chat's id sealed to the running workers."""
    known = chat.seen_id or chat_ids.open_id(chat)
    if known:
        outbox.enqueue(
            "send_message",
            {"text": text},
            sealed_chat=chat_ids.seal_for_workers(known, chat_ids.GONE),
        )
    if chat.pending_case_id:
        from krov.aid import services as aid

        aid.discard_pending_key(chat.pending_case_id)
    from krov.telegram.models import Update

    Update.objects.filter(chat_key=chat.key).exclude(status=Update.Status.PENDING).delete()
    chat.delete()


def case_replied_to(chat: Chat, message_id: int | None):
    """The case whose message (sent to this volunteer's chat) `message_id` answers."""
    if message_id is None:
        return None
    routed = (
        Outbound.objects.filter(chat=chat, telegram_message_id=message_id, case__isnull=False)
        .select_related("case")
        .first()
    )
    return routed.case if routed is not None else None


def keyboard(rows: list[list[tuple[str, str]]]) -> dict:
    return {
        "inline_keyboard": [
            [{"text": str(text), "callback_data": data} for text, data in row] for row in rows
        ]
    }


def send_text(
    chat: Chat,
    text: str,
    *,
    buttons: list[list[tuple[str, str]]] | None = None,
    case=None,
    aid_message=None,
) -> Outbound:
    params: dict[str, Any] = {"text": str(text)}
    if buttons:
        params["reply_markup"] = keyboard(buttons)
    return outbox.enqueue("send_message", params, chat=chat, case=case, aid_message=aid_message)


# --- the relay ------------------------------------------------------------------------------


def _attachment_call(ref: str) -> tuple[str, str] | None:
    """("send_photo", file_id) for "photo:<file_id>" and the like; Telegram file ids are
    re-sent by reference, never downloaded to our server."""
    kind, _sep, file_id = ref.partition(":")
    method = {"photo": "send_photo", "voice": "send_voice", "document": "send_document"}
    if kind in method and file_id:
        return method[kind], file_id
    return None


# What a reader's browser may show of each kind a requester sends (Telegram's photos are
# JPEG; voice messages Ogg Opus); the rest is offered as a file to save.
ATTACHMENT_TYPES = {
    "photo": "image/jpeg",
    "voice": "audio/ogg",
    "document": "application/octet-stream",
    "video": "application/octet-stream",
    "video_note": "application/octet-stream",
    "audio": "application/octet-stream",
    "animation": "application/octet-stream",
}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024  # the most the Bot API lets a bot download


def fetch_attachment(ref: str) -> tuple[bytes, str]:
    """A requester's file, for a reader's browser that opened its sealed reference
    ("photo:<file_id>"): fetched from Telegram into memory for this one response, never
    stored. Returns (content, content type); aid.AidError when it cannot be had."""
    from krov.aid import services as aid

    kind, _sep, file_id = ref.partition(":")
    if kind not in ATTACHMENT_TYPES or not 0 < len(file_id) <= 256 or not file_id.isascii():
        raise aid.AidError(_("This is not a file a requester sent."))
    if not client.configured():
        raise aid.AidError(_("Telegram is not set up on this server."))
    try:
        with client.Client(timeout=15.0) as api:
            content = api.download(file_id, max_bytes=ATTACHMENT_MAX_BYTES)
    except client.Transient as error:
        raise aid.AidError(_("Telegram did not answer; try again in a moment.")) from error
    except client.Permanent as error:
        raise aid.AidError(_("Telegram no longer has this file.")) from error
    return content, ATTACHMENT_TYPES[kind]


def send_sealed_text(
    chat: Chat, message, sealed: dict[str, str], *, before: str, after: str = "", case=None
) -> Outbound:
    """Queue the text of an aid message for `chat`, sealed to the running workers
    (outbox_keys); `before` and `after` frame it and hold no case content. An empty
    `sealed` (no worker ran) leaves the row waiting for a reader's browser."""
    return outbox.enqueue(
        "send_message",
        {"before": before, "after": after},
        chat=chat,
        aid_message=message,
        case=case,
        sealed=sealed,
    )


def requester_frame(message, language: str) -> str:
    """What precedes an aid message in the requester's Telegram: signed with the case alias
    only, in the requester's language."""
    with override(language):
        if message.direction == "system":
            return _("Message for you") + "\n\n"
        return (
            _("Message for you")
            + "\n\n"
            + _("Krov volunteer %(alias)s:") % {"alias": message.author_alias}
            + "\n"
        )


def relay_to_requester(message) -> None:
    """aid → requester on Telegram. The text waits for the worker sealed to its outbox
    key (outbox_keys), never under keys the server holds."""
    case = message.request
    chat = chat_of_case(case)
    if message.plaintext is not None:
        sealed = outbox_keys.seal_for_workers(str(message.public_id), message.plaintext)
    else:  # a volunteer's answer from Telegram, sealed to the workers at the webhook
        sealed = message.relay_sealed
    if chat is None or chat.blocked or sealed is None:
        from krov.aid import services as aid

        aid.mark_delivery(message.pk, delivered=False)
        return
    send_sealed_text(chat, message, sealed, before=requester_frame(message, chat.language))


def volunteer_may_use_chat(profile) -> bool:
    """Case content goes to a volunteer's chat only while the account could open it on the
    web: active, still a volunteer, with a current second factor."""
    user = profile.user
    return (
        user.is_active
        and user.has_perm("accounts.answer_help_requests")
        and account_services.has_mfa(user)
    )


def chat_language(chat: Chat) -> str:
    """What the bot writes in to this chat: a linked volunteer's chosen language (their
    settings), else the chat's own (the requester's choice, or their Telegram's)."""
    volunteer = chat.volunteer if chat.volunteer_id else None
    if volunteer is not None and volunteer.user.language:
        return notify.language_of(volunteer.user)
    return chat.language


def relay_to_volunteer(message) -> bool:
    """requester → the case's volunteer, when they linked Telegram. True when queued."""
    case = message.request
    volunteer = case.assignee
    chat = getattr(volunteer, "telegram_chat", None) if volunteer else None
    if chat is None or chat.blocked or not volunteer_may_use_chat(volunteer):
        return False
    with override(chat_language(chat)):
        header = _("New message") + "\n\n" + case.code + ":\n"
        hint = "\n\n" + _("Reply to this message to answer.")
        if case.is_sealed and message.relay_sealed is not None:
            # A Telegram requester's words, sealed at the webhook to the workers: they are
            # in Telegram's cloud already, and reach the volunteer's chat the same way.
            send_sealed_text(
                chat, message, message.relay_sealed, before=header, after=hint, case=case
            )
            if message.relay_sealed_attachment is not None:
                # The file they sent, by its Telegram reference (never downloaded here):
                # sealed to the workers like the words, sent after them.
                outbox.enqueue(
                    outbox_keys.ATTACHMENT_METHOD,
                    {"caption": case.code},
                    chat=chat,
                    aid_message=message,
                    case=case,
                    sealed=message.relay_sealed_attachment,
                )
            return True
        if case.is_sealed:
            # A web requester's words reach no Telegram cloud (they chose the web): the
            # volunteer reads them in Krov, and may answer here by replying to the notice.
            send_text(chat, header + _sealed_notice(), case=case)
            return True
    send_text(chat, header + message.body + hint, case=case)
    attachment = _attachment_call(message.attachment_ref or "")
    if attachment:
        method, file_id = attachment
        param = {"send_photo": "photo", "send_voice": "voice", "send_document": "document"}
        outbox.enqueue(method, {param[method]: file_id, "caption": case.code}, chat=chat, case=case)
    return True


def notification_wants(user) -> bool:
    chat = (
        Chat.objects.filter(volunteer__user=user, blocked=False).select_related("volunteer").first()
    )
    return chat is not None and volunteer_may_use_chat(chat.volunteer)


def send_notification(notification) -> None:
    """The outbox's Telegram channel: offers come with Accept / Decline buttons. Written in
    the recipient's language, which the outbox has made the active one."""
    chat = Chat.objects.filter(volunteer__user=notification.recipient, blocked=False).first()
    if chat is None:
        raise TelegramError("no linked chat")
    if notification.kind == "aid_offer" and notification.ref.startswith("offer:"):
        offer_id = notification.ref.split(":", 1)[1]
        offer_text = _offer_text(offer_id)
        send_text(
            chat,
            _("Something new is waiting for you") + "\n\n" + offer_text,
            buttons=[
                [
                    (_("Accept"), f"offer:{offer_id}:accept"),
                    (_("Decline"), f"offer:{offer_id}:decline"),
                ]
            ],
        )
    else:
        send_text(chat, notification.body)


def _offer_text(offer_id: str) -> str:
    from krov.aid.models import Offer

    offer = (
        Offer.objects.select_related("request", "request__skill").filter(public_id=offer_id).first()
    )
    if offer is None:
        return ""
    case = offer.request
    return f"{case.code} · {case.skill.label} · {case.language} · {case.get_urgency_display()}"


def _sealed_notice() -> str:
    return _("This case is sealed: read it in Krov. Reply to this message to answer it here.")


def send_case_to_volunteer(case, chat: Chat) -> None:
    """After accepting on Telegram: the request itself, as a message they can reply to."""
    with override(chat_language(chat)):
        if case.is_sealed:
            send_text(
                chat, _("The case is yours. Thank you.") + "\n\n" + _sealed_notice(), case=case
            )
            return
        text = (
            _("The case is yours. Thank you.")
            + "\n\n"
            + f"{case.code}:\n{case.description}"
            + "\n\n"
            + _("Reply to this message to answer.")
        )
    send_text(chat, text, case=case)


def chat_blocked(row: Outbound) -> None:
    """403 from Telegram: the person blocked the bot. Tell the volunteer of the case."""
    case = row.aid_message.request if row.aid_message is not None else None
    if row.chat is not None and row.chat.volunteer_id:
        return  # a volunteer's own chat: they will notice
    if case is not None and case.assignee is not None:
        from krov.aid import notices

        notify.notify(case.assignee.user, notices.UNDELIVERABLE)


# --- volunteers -------------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return salted_hmac("krov.telegram.link", code.strip().upper(), algorithm="sha256").hexdigest()


@transaction.atomic
def create_link_code(profile, *, actor) -> str:
    if profile.user_id != actor.pk:
        raise TelegramError(_("You can only link your own account."))
    LinkCode.objects.filter(volunteer=profile, used_at__isnull=True).delete()
    code = "".join(secrets.choice(LINK_ALPHABET) for _ in range(8))
    LinkCode.objects.create(
        volunteer=profile,
        code_hash=_code_hash(code),
        expires_at=timezone.now() + timedelta(minutes=LINK_MINUTES),
    )
    return code


def link_attempt_allowed(chat: Chat) -> bool:
    return ratelimit.hit("telegram-link", str(chat.pk), limit=5, window=3600)


@transaction.atomic
def link(chat: Chat, code: str, *, language: str = ""):
    """Link `chat` to the volunteer whose one-time code this is."""
    if not link_attempt_allowed(chat):
        raise TelegramError(_("Too many attempts. Please try again in an hour."))
    now = timezone.now()
    found = (
        LinkCode.objects.select_for_update()
        .select_related("volunteer__user")
        .filter(code_hash=_code_hash(code), used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if found is None:
        raise TelegramError(_("This code is wrong or has expired. Make a new one in Krov."))
    profile = found.volunteer
    if not volunteer_may_use_chat(profile):
        raise TelegramError(
            _("This account cannot be linked. It needs a second factor (an authenticator app).")
        )
    known = chat.seen_id or chat_ids.open_id(chat)
    if not known:
        # This worker cannot open the chat's id (it started after the message came): the
        # code stays unused, and the chat's next message seals the id to it.
        raise TelegramError(_("Please send /link with your code once more."))
    LinkCode.objects.filter(pk=found.pk).update(used_at=now)
    Chat.objects.filter(volunteer=profile).exclude(pk=chat.pk).update(volunteer=None)
    chat.volunteer, chat.state, chat.request = profile, Chat.State.NEW, None
    interface = {code for code, _name in settings.LANGUAGES}
    chat.language = language if language in interface else chat.language
    # A volunteer's chat keeps its id under the field keys, like their account's address,
    # so that offers reach it after the workers restart.
    chat.chat_id = str(known)
    chat.save(update_fields=["volunteer", "state", "request", "language", "chat_id"])
    return profile


# What is still to be sent: queued, waiting for a reader, or being sent right now (the
# worker checks `may_reach` again after claiming, so a row deleted mid-send goes nowhere).
UNSENT = (Outbound.Status.QUEUED, Outbound.Status.WAITING, Outbound.Status.SENDING)


def lock_chats(profile) -> int:
    """After panic: the chat keeps looking linked (someone holding the phone must not see
    the account lock), but it belongs to nobody and nothing reaches it."""
    Outbound.objects.filter(chat__volunteer=profile, status__in=UNSENT).delete()
    return Chat.objects.filter(volunteer=profile).update(
        volunteer=None, state=Chat.State.LOCKED, request=None, chat_id=""
    )


def unlink(profile) -> int:
    """The volunteer's chat no longer belongs to them; nothing queued for it is sent (a
    case message queued before a panic must not arrive after it)."""
    Outbound.objects.filter(chat__volunteer=profile, status__in=UNSENT).delete()
    return Chat.objects.filter(volunteer=profile).update(volunteer=None, chat_id="")


def may_reach(row: Outbound) -> bool:
    """Whether a row may still go to its chat, checked when the worker sends it. A row about
    a case (`case` set: it goes to the case's volunteer) goes only to a chat that is still
    linked to the case's current volunteer, who may still read it: not after a panic, an
    unlink, a hand-over or a release, nor once the account lost its role or second factor.
    Rows to requesters, channels and the dialogue's own answers carry no `case`."""
    if row.case_id is None:
        return True
    chat, case = row.chat, row.case
    if chat is None or case is None or chat.state == Chat.State.LOCKED:
        return False
    if chat.volunteer_id is None or case.assignee_id != chat.volunteer_id:
        return False
    return volunteer_may_use_chat(chat.volunteer)


def is_linked(profile) -> bool:
    return Chat.objects.filter(volunteer=profile).exists()


# --- channel posts -------------------------------------------------------------------------


def post_to_channel(*, title: str, text: str = "", url: str = "") -> Outbound | None:
    """Queue a post to TELEGRAM_CHANNEL_ID (HTML, every part escaped). None when no channel
    is configured. Used by the events and bulletins apps."""
    channel = settings.TELEGRAM_CHANNEL_ID
    if not channel:
        return None
    parts = [f"<b>{html.escape(title)}</b>"]
    if text:
        parts.append(html.escape(text))
    if url:
        parts.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
    params = {"text": "\n\n".join(parts), "parse_mode": "HTML"}
    return outbox.enqueue("send_message", params, channel=channel)


# --- parked updates: for an administrator ---------------------------------------------------

PROCESS_PARKED = "telegram.process_parked_updates"


def parked_updates() -> dict[str, Any]:
    """How many updates wait for an administrator, and since when (one query)."""
    found = Update.objects.filter(status=Update.Status.PARKED).aggregate(
        count=Count("pk"), since=Min("received_at")
    )
    return {"count": found["count"], "since": found["since"]}


def health() -> dict[str, Any]:
    """The Telegram part of /healthz: parked updates are reported, not a failure (the
    webhook still takes updates; an administrator processes these again)."""
    return {"status": "ok", "parked": parked_updates()["count"]}


def process_parked_again(updates, *, actor) -> int:
    """Put the parked ones among `updates` (a queryset of Update) back in their chats'
    queues, in update_id order with the rest; returns how many. What they hold stays as
    it was stored (sealed where a team key existed)."""
    from krov.telegram import intake

    if not actor.has_perm(PROCESS_PARKED):
        raise TelegramError(_("You may not process parked updates."))
    with transaction.atomic():
        parked = updates.filter(status=Update.Status.PARKED)
        keys = set(parked.values_list("chat_key", flat=True))
        count = parked.update(status=Update.Status.PENDING, attempts=0, error="")
        for key in keys:
            intake.nudge(key)
        if count:
            audit.record(AuditEvent.Kind.TELEGRAM_REPROCESSED, actor=actor, count=count)
    log.info("telegram: %s parked updates queued again by account %s", count, actor.pk)
    return count


# --- housekeeping ------------------------------------------------------------------------------


def purge_old(now=None) -> dict[str, int]:
    """Sent calls keep message text: drop them after a day; processed updates after a week
    (their payload is already gone; the id guards against Telegram's retries)."""
    from krov.telegram.models import Update

    now = now or timezone.now()
    calls, _detail = Outbound.objects.filter(
        status__in=[Outbound.Status.SENT, Outbound.Status.FAILED],
        created_at__lt=now - timedelta(days=1),
        case__isnull=True,
    ).delete()
    # Rows that route volunteers' replies live while their case is open; then they go too.
    routed, _detail = Outbound.objects.filter(
        status__in=[Outbound.Status.SENT, Outbound.Status.FAILED],
        case__status__in=["closed", "spam"],
    ).delete()
    updates, _detail = Update.objects.filter(
        status__in=[Update.Status.DONE, Update.Status.IGNORED],
        received_at__lt=now - timedelta(days=7),
    ).delete()
    # Parked updates wait for an administrator for one retention period, not for ever.
    parked, _detail = Update.objects.filter(
        status=Update.Status.PARKED,
        received_at__lt=now - timedelta(days=settings.KROV_RETENTION_DAYS),
    ).delete()
    updates += parked
    # A chat that never became a case (/start only, a button pressed) names a Telegram
    # account that used the bot: it goes one retention period after it last had news.
    idle, _detail = (
        Chat.objects.filter(
            volunteer__isnull=True,
            request__isnull=True,
            created_at__lt=now - timedelta(days=settings.KROV_RETENTION_DAYS),
        )
        .exclude(
            key__in=Update.objects.filter(
                received_at__gte=now - timedelta(days=settings.KROV_RETENTION_DAYS)
            ).values("chat_key")
        )
        .delete()
    )
    return {"calls": calls + routed, "updates": updates, "chats": idle}


def forget_case_chats(case, *, contact_in_use: bool) -> int:
    """The chats of a purged case: a volunteer's is unlinked from it; the requester's is
    deleted (with its encrypted chat id) unless another case of theirs still needs it."""
    # Relayed messages (sent or still queued) hold the case's text and code: all go, so
    # nothing queued is sent after a requester's /forget either.
    Outbound.objects.filter(Q(case=case) | Q(aid_message__request=case)).delete()
    Chat.objects.filter(request=case, volunteer__isnull=False).update(request=None)
    doomed = Chat.objects.filter(volunteer__isnull=True)
    if contact_in_use:
        return Chat.objects.filter(request=case).update(request=None, state=Chat.State.NEW)
    deleted, _detail = doomed.filter(request=case).delete()
    if case.contact_lookup and case.channel == "telegram":
        deleted += doomed.filter(contact_lookup=case.contact_lookup).delete()[0]
    return deleted
