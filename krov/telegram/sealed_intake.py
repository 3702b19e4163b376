"""Seal a Telegram update at the webhook, before it is written anywhere.

Once the coordinators have a team key, what a requester writes to the bot (text, captions,
the references of photos, voice messages and files) is sealed to the key of their case, or,
while they are still describing their need, to a key made for the case to come
(aid.services.prepare_case_key). The stored update keeps only what the dialogue needs in the
clear: commands, button data, ids, the language code. Names and usernames are blanked. A
volunteer's reply to a sealed case is dropped here (sealed cases are answered in Krov), and
the texts Telegram repeats inside callbacks and replies (the bot's own messages) are
removed. The dialogue finds the sealed parts under "krov_sealed".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import override

from krov.aid import services as aid
from krov.telegram.models import Chat, Outbound

SEALED = "krov_sealed"
CONTENT_KEYS = ("text", "caption", "entities", "caption_entities", "photo", "voice", "document")
ECHO_KEYS = (*CONTENT_KEYS, "reply_markup")
NAME_KEYS = ("first_name", "last_name", "username")


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _blank_names(obj: Any) -> None:
    if isinstance(obj, dict):
        for key in NAME_KEYS:
            if key in obj:
                obj[key] = ""


def _strip_echo(message: Any) -> None:
    """A message of the bot's that Telegram repeats (in a callback, in a reply): only its
    id and chat are needed."""
    if isinstance(message, dict):
        for key in ECHO_KEYS:
            message.pop(key, None)
        _blank_names(message.get("chat"))
        _blank_names(message.get("from"))


def _attachment(message: dict[str, Any]) -> str:
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        return "photo:" + str(photo[-1].get("file_id", ""))
    for kind in ("voice", "document"):
        part = message.get(kind)
        if isinstance(part, dict) and part.get("file_id"):
            return f"{kind}:{part['file_id']}"
    return ""


def _placeholder(attachment: str, language: str) -> str:
    with override(language):
        if attachment.startswith("photo:"):
            return _("[photo]")
        if attachment.startswith("voice:"):
            return _("[voice message]")
        return _("[file]")


def seal_update(data: dict[str, Any], chat_key: str) -> dict[str, Any]:
    """The update as it may be stored: sealed where it carries case content."""
    callback = data.get("callback_query")
    if isinstance(callback, dict):
        _blank_names(callback.get("from"))
        _strip_echo(callback.get("message"))
    message = data.get("message")
    if not isinstance(message, dict):
        return data
    _blank_names(message.get("from"))
    _blank_names(message.get("chat"))
    replied = message.get("reply_to_message")
    _strip_echo(replied)
    if not aid.sealing_ready():
        return data
    text = _string(message.get("text"))
    if text.startswith("/"):
        return data  # a command: not case content, the dialogue reads it
    caption = _string(message.get("caption"))
    attachment = _attachment(message)
    body = (text or caption).strip()
    if not body and not attachment:
        return data
    chat = _chat(data, message, chat_key)
    if chat is not None and chat.volunteer_id:
        if _volunteer_reply_is_sealed(chat, replied):
            for key in CONTENT_KEYS:
                message.pop(key, None)
            message["text"] = "…"
            data[SEALED] = {"kind": "dropped"}
        return data
    sealed = _seal_for_requester(chat, body, attachment)
    if sealed is None:
        return data  # nothing to seal to (no team key any more): kept as before sealing
    for key in CONTENT_KEYS:
        message.pop(key, None)
    message["text"] = "…"  # the dialogue sees a message; its content is under SEALED
    data[SEALED] = sealed
    return data


def _seal_for_requester(chat: Chat | None, body: str, attachment: str) -> dict | None:
    if len(body) > settings.KROV_AID_MAX_TEXT:
        return {"too_long": len(body)}
    body = body or _placeholder(attachment, chat.language if chat is not None else "uk")
    case = chat.request if chat is not None else None
    if case is not None and case.is_open and not case.purged_at:
        if not case.is_sealed:
            aid.seal_existing_case(case)
            case.refresh_from_db()
        return {
            "kind": "case",
            "case": str(case.public_id),
            "message": aid.seal_text(case, "message", body),
            "attachment": aid.seal_text(case, "message.attachment", attachment),
        }
    pending = _pending_key(chat)
    if pending is None:
        return None
    return {
        "kind": "pending",
        "case": str(pending.case_id),
        "description": aid.seal_pending(pending, "request.description", body),
        "message": aid.seal_pending(pending, "message", body),
        "attachment": (
            aid.seal_pending(pending, "message.attachment", attachment) if attachment else ""
        ),
    }


def _chat(data: dict[str, Any], message: dict[str, Any], chat_key: str) -> Chat | None:
    from krov.telegram import intake, services

    chat = Chat.objects.filter(key=chat_key).select_related("request", "volunteer").first()
    if chat is None and chat_key:
        chat_id = intake.chat_id_of(data)
        sender = message.get("from")
        hint = sender.get("language_code") if isinstance(sender, dict) else None
        if chat_id is not None:
            chat = services.get_or_create_chat(chat_id, language_hint=_string(hint))
    return chat


def _volunteer_reply_is_sealed(chat: Chat, replied: Any) -> bool:
    """A linked volunteer's text is dropped here unless it answers a case from before
    sealing: replies to a sealed case are refused by the dialogue (answered in Krov), and
    text that answers nothing is not kept either."""
    message_id = replied.get("message_id") if isinstance(replied, dict) else None
    routed = (
        Outbound.objects.filter(chat=chat, telegram_message_id=message_id, case__isnull=False)
        .select_related("case")
        .first()
        if isinstance(message_id, int)
        else None
    )
    return routed is None or routed.case is None or routed.case.is_sealed


def _pending_key(chat: Chat | None):
    """The key made for this chat's case to come (made now if there is none yet)."""
    if chat is None:
        return None
    pending = aid.pending_key(chat.pending_case_id)
    if pending is None:
        pending = aid.prepare_case_key()
        if pending is None:
            return None
        Chat.objects.filter(pk=chat.pk).update(pending_case_id=pending.case_id)
    return pending
