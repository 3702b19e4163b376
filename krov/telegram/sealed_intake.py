"""Seal a Telegram update at the webhook, before it is written anywhere.

Once the coordinators have a team key, what a requester writes to the bot (text, captions,
the references of photos, voice messages and files) is sealed to the key of their case, or,
while they are still describing their need, to a key made for the case to come
(aid.services.prepare_case_key). The stored update keeps only what the dialogue needs in the
clear: commands, button data, ids, the language code. Names and usernames are blanked. A
linked volunteer's answer to a sealed case is sealed to that case's key; text that answers
no case is dropped. Where the words go on to another chat (a requester's to their
volunteer's Telegram, a volunteer's answer to a Telegram requester), they are also sealed to
the running workers' outbox keys, never kept where the server's own keys open them. The
texts Telegram repeats inside callbacks and replies (the bot's own messages) are removed.
The dialogue finds the sealed parts under "krov_sealed".
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import override

from krov.aid import services as aid
from krov.aid.models import HelpRequest
from krov.telegram import outbox_keys
from krov.telegram.models import Chat

SEALED = "krov_sealed"
# Commands the dialogue reads in the clear: only the command word is kept (and /link's code,
# a one-time code of a volunteer's); anything else that starts with "/" is content.
COMMANDS = {"/start", "/help", "/status", "/forget", "/link", "/unlink"}
# Attachments sealed as references (the file stays with Telegram).
ATTACHMENT_KINDS = ("photo", "voice", "document", "video", "video_note", "audio", "animation")
NAME_KEYS = ("first_name", "last_name", "username")


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _blank_names(obj: Any) -> None:
    if isinstance(obj, dict):
        for key in NAME_KEYS:
            if key in obj:
                obj[key] = ""


def _bare(message: Any) -> dict[str, Any] | None:
    """Only what identifies a message and its chat: no text, media, names or quotes."""
    if not isinstance(message, dict):
        return None
    bare: dict[str, Any] = {"message_id": message.get("message_id"), "date": message.get("date")}
    chat = message.get("chat")
    if isinstance(chat, dict):
        bare["chat"] = {"id": chat.get("id"), "type": chat.get("type")}
    sender = message.get("from")
    if isinstance(sender, dict):
        bare["from"] = {
            "id": sender.get("id"),
            "is_bot": bool(sender.get("is_bot")),
            "first_name": "",
            "language_code": _string(sender.get("language_code")),
        }
    return bare


def _attachment(message: dict[str, Any]) -> str:
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        return "photo:" + _string(photo[-1].get("file_id"))
    for kind in ATTACHMENT_KINDS[1:]:
        part = message.get(kind)
        if isinstance(part, dict) and part.get("file_id"):
            return f"{kind}:{part['file_id']}"
    return ""


def described(message: dict[str, Any], language: str) -> list[str]:
    """Content that is neither text nor a file, written out so that nothing is lost (the
    dialogue writes out what arrived unsealed the same way)."""
    lines = []
    with override(language):
        location = message.get("location")
        if isinstance(location, dict):
            lines.append(
                _("[location: %(lat)s, %(lon)s]")
                % {"lat": location.get("latitude"), "lon": location.get("longitude")}
            )
        venue = message.get("venue")
        if isinstance(venue, dict):
            lines.append(
                _("[place: %(title)s, %(address)s]")
                % {"title": _string(venue.get("title")), "address": _string(venue.get("address"))}
            )
        contact = message.get("contact")
        if isinstance(contact, dict):
            lines.append(
                _("[contact: %(name)s, %(phone)s]")
                % {
                    "name": " ".join(
                        _string(contact.get(k)) for k in ("first_name", "last_name")
                    ).strip(),
                    "phone": _string(contact.get("phone_number")),
                }
            )
        sticker = message.get("sticker")
        if isinstance(sticker, dict):
            # A sticker says something (thanks, fear) without words: its emoji is kept.
            lines.append(_("[sticker: %(emoji)s]") % {"emoji": _string(sticker.get("emoji"))})
        poll = message.get("poll")
        if isinstance(poll, dict):
            lines.append(_("[poll: %(question)s]") % {"question": _string(poll.get("question"))})
        quote = message.get("quote")
        if isinstance(quote, dict) and _string(quote.get("text")):
            lines.append(_("[quoting: %(text)s]") % {"text": _string(quote.get("text"))})
    return lines


def placeholder(attachment: str, language: str) -> str:
    with override(language):
        if attachment.startswith("photo:"):
            return _("[photo]")
        if attachment.startswith("voice:"):
            return _("[voice message]")
        return _("[file]")


def seal_update(
    data: dict[str, Any], chat_key: str, *, chat: Chat | None = None, ready: bool | None = None
) -> dict[str, Any]:
    """The update as it may be stored. Once a team key exists, a private message is rebuilt
    from an allow-list (ids, the command word, the language code) and everything else it
    carries is sealed; names are blanked everywhere and the bot's own texts dropped."""
    callback = data.get("callback_query")
    if isinstance(callback, dict):
        _blank_names(callback.get("from"))
        echoed = _bare(callback.get("message"))
        if echoed is not None:
            callback["message"] = echoed
    message = data.get("message")
    if not isinstance(message, dict):
        return data
    if not (aid.sealing_ready() if ready is None else ready):
        _blank_names(message.get("from"))
        _blank_names(message.get("chat"))
        return data
    chat_obj = message.get("chat")
    if not isinstance(chat_obj, dict) or chat_obj.get("type") != "private":
        # Groups and channels are no place for requests: nothing of them is kept.
        data["message"] = _bare(message)
        return data
    stored = _bare(message) or {}
    replied = _bare(message.get("reply_to_message"))
    if replied is not None:
        stored["reply_to_message"] = replied
    text = _string(message.get("text"))
    words = text.split(maxsplit=1)
    command = words[0].lower().split("@")[0] if words and words[0].startswith("/") else ""
    if command in COMMANDS:
        stored["text"] = text.strip() if command == "/link" else words[0]
        rest = words[1] if len(words) > 1 and command != "/link" else ""
    else:
        rest = text
    data["message"] = stored
    chat = chat or _chat(data, message, chat_key)
    language = chat.language if chat is not None else "uk"
    attachment = _attachment(message)
    body = "\n".join(
        part for part in [rest.strip(), _string(message.get("caption")).strip()] if part
    )
    body = "\n".join([body, *described(message, language)]).strip()
    if not body and not attachment:
        return data
    if command in COMMANDS and not rest:
        return data
    if "text" not in stored:
        stored["text"] = "…"  # the dialogue sees a message; its content is under SEALED
    if chat is not None and chat.volunteer_id:
        case = _case_answered(chat, message.get("reply_to_message"))
        if case is not None and not case.is_sealed:
            stored["text"] = text  # answers a case from before sealing: as before
        elif case is None or not case.is_open or not body:
            data[SEALED] = {"kind": "dropped"}  # answers nothing: not kept
        else:
            data[SEALED] = _seal_volunteer_reply(case, body)
        return data
    sealed = _seal_for_requester(chat, body, attachment)
    if sealed is None:
        raise SealingUnavailable
    data[SEALED] = sealed
    return data


class SealingUnavailable(RuntimeError):
    """A team key exists but nothing could be sealed to just now: Telegram retries."""


def _seal_volunteer_reply(case, body: str) -> dict:
    """A volunteer answers a sealed case from Telegram: sealed to the case's key, and for a
    Telegram requester also to the running workers, who send it on."""
    if len(body) > settings.KROV_AID_MAX_TEXT:
        return {"too_long": len(body)}
    message_id = str(uuid.uuid4())
    relay = (
        outbox_keys.seal_for_workers(message_id, body)
        if case.channel == HelpRequest.Channel.TELEGRAM
        else {}
    )
    return {
        "kind": "volunteer_reply",
        "case": str(case.public_id),
        "message_id": message_id,
        "message": aid.seal_text(case, "message", body),
        "relay": relay,
    }


def _relay_to_volunteer(
    case, message_id: str, body: str, attachment: str = ""
) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """A requester's words (and the reference of the file they sent) sealed to the workers,
    when the case's volunteer reads their cases in Telegram (both are in Telegram's cloud
    already); (None, None) when they do not."""
    from krov.telegram import services

    volunteer = case.assignee
    chat = getattr(volunteer, "telegram_chat", None) if volunteer else None
    if chat is None or chat.blocked or not services.volunteer_may_use_chat(volunteer):
        return None, None
    text = outbox_keys.seal_for_workers(message_id, body)
    if not attachment:
        return text, None
    return text, outbox_keys.seal_for_workers(message_id, attachment, "attachment")


def _seal_for_requester(chat: Chat | None, body: str, attachment: str) -> dict | None:
    if len(body) > settings.KROV_AID_MAX_TEXT:
        return {"too_long": len(body)}
    body = body or placeholder(attachment, chat.language if chat is not None else "uk")
    case = chat.request if chat is not None else None
    locked = None
    if chat is not None and not _open(case):
        # The pending path locks the chat's row before it chooses, and reads the case from
        # the locked row: on PostgreSQL the unlocked read above may predate the worker's
        # commit of the case this description became (its pending key taken over and
        # gone). While the lock is held the worker cannot commit a case for this chat (it
        # writes the chat's row in the same transaction), so the locked row either names
        # that case or still holds the pending key the case will take over.
        locked = Chat.objects.select_for_update().filter(pk=chat.pk).first()
        if locked is None:
            return None  # forgotten meanwhile: SealingUnavailable, Telegram sends it again
        if locked.request_id != chat.request_id:
            case = locked.request
    if case is not None and _open(case):
        if not case.is_sealed:
            aid.seal_existing_case(case)
            case.refresh_from_db()
        message_id = str(uuid.uuid4())
        relay, relay_attachment = _relay_to_volunteer(case, message_id, body, attachment)
        return {
            "kind": "case",
            "case": str(case.public_id),
            "message_id": message_id,
            "message": aid.seal_text(case, "message", body),
            "attachment": aid.seal_text(case, "message.attachment", attachment),
            "relay": relay,
            "relay_attachment": relay_attachment,
        }
    pending = _pending_key(locked)
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


def _case_answered(chat: Chat, replied: Any):
    """The case a linked volunteer's message answers (by the message it replies to)."""
    from krov.telegram import services

    message_id = replied.get("message_id") if isinstance(replied, dict) else None
    return services.case_replied_to(chat, message_id if isinstance(message_id, int) else None)


def _open(case) -> bool:
    return case is not None and case.is_open and not case.purged_at


def _pending_key(chat: Chat | None):
    """The key made for this chat's case to come (made now if there is none yet). `chat` is
    the row as locked by the caller (select_for_update), so two updates arriving together
    share one key."""
    if chat is None:
        return None
    pending = aid.pending_key(chat.pending_case_id)
    if pending is None:
        pending = aid.prepare_case_key()
        if pending is None:
            return None
        Chat.objects.filter(pk=chat.pk).update(pending_case_id=pending.case_id)
    return pending
