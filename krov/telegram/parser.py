"""Telegram updates, read leniently.

python-telegram-bot's `Update.de_json` raises on the first part it cannot build (an empty
`thumbnail`, a document without `file_unique_id` as older clients send, an entity without
an offset, a `reply_to_message` without a date), and an update it cannot build would be
parked, its message never reaching the case. So the stored update is first rebuilt from an
allow-list of what the dialogue reads: each part is kept only when it has the right shape,
a missing field the library requires but the dialogue does not read gets a neutral value,
and anything unknown or malformed is dropped. Only an update without its essentials (a
message without its chat, a button press without its id or sender) is `Unusable`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update as TelegramUpdate

# One check per field: the cleaned value, or None when the value is unusable.
Check = Callable[[Any], Any]
_NONE = object()  # a required field without a neutral value: its object is unusable

INT_LIMIT = 2**63  # what the database stores; Telegram's ids stay far below
TIMESTAMP_LIMIT = 2**33  # far beyond any real date, within what datetime accepts


class Unusable(ValueError):
    """The update lacks what the dialogue needs (the message says which part, never any
    content): it is parked for an administrator."""


@dataclass(frozen=True)
class Field:
    check: Check
    required: bool = False
    default: Any = _NONE


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and -INT_LIMIT < value < INT_LIMIT:
        return value
    return None


def _timestamp(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and 0 <= number < TIMESTAMP_LIMIT else None


def _number(value: Any) -> float | int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value if math.isfinite(value) and abs(value) < INT_LIMIT else None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _object(spec: dict[str, Field]) -> Check:
    def check(value: Any) -> dict[str, Any] | None:
        return clean_object(spec, value)

    return check


def _list_of(item: Check) -> Check:
    def check(value: Any) -> list[Any] | None:
        if not isinstance(value, list):
            return None
        return [cleaned for part in value if (cleaned := item(part)) is not None]

    return check


def clean_object(spec: dict[str, Field], value: Any) -> dict[str, Any] | None:
    """`value` as `spec` allows it: unknown keys dropped, malformed optional fields dropped,
    required ones given their neutral value; None when a required field has none."""
    if not isinstance(value, dict):
        return None
    cleaned: dict[str, Any] = {}
    for name, field in spec.items():
        found = field.check(value[name]) if name in value else None
        if found is None and field.required:
            if field.default is _NONE:
                return None
            found = field.default
        if found is not None:
            cleaned[name] = found
    return cleaned


# --- the parts the dialogue reads, and those it writes out (a location, a contact) -----------

USER = {
    "id": Field(_int, required=True),
    "is_bot": Field(_bool, required=True, default=False),
    "first_name": Field(_str, required=True, default=""),
    "last_name": Field(_str),
    "username": Field(_str),
    "language_code": Field(_str),
}
CHAT = {
    "id": Field(_int, required=True),
    "type": Field(_str, required=True),
    "title": Field(_str),
    "username": Field(_str),
    "first_name": Field(_str),
    "last_name": Field(_str),
}


def _file(**sizes: Field) -> dict[str, Field]:
    """A file Telegram keeps (the file id is what is relayed); what else the library
    requires is only described, so a missing value becomes zero or empty."""
    return {
        "file_id": Field(_str, required=True),
        "file_unique_id": Field(_str, required=True, default=""),
        "file_size": Field(_int),
        "file_name": Field(_str),
        "mime_type": Field(_str),
        **sizes,
    }


_ZERO = Field(_int, required=True, default=0)
PHOTO_SIZE = _file(width=_ZERO, height=_ZERO)
MEDIA = {
    "voice": _file(duration=_ZERO),
    "document": _file(),
    "audio": _file(duration=_ZERO),
    "video": _file(width=_ZERO, height=_ZERO, duration=_ZERO),
    "video_note": _file(length=_ZERO, duration=_ZERO),
    "animation": _file(width=_ZERO, height=_ZERO, duration=_ZERO),
}
# A sticker is written out as its emoji; the rest is what the library requires.
STICKER = _file(
    width=_ZERO,
    height=_ZERO,
    is_animated=Field(_bool, required=True, default=False),
    is_video=Field(_bool, required=True, default=False),
    type=Field(_str, required=True, default="regular"),
    emoji=Field(_str),
)
LOCATION = {
    "latitude": Field(_number, required=True),
    "longitude": Field(_number, required=True),
}
VENUE = {
    "location": Field(_object(LOCATION), required=True),
    "title": Field(_str, required=True, default=""),
    "address": Field(_str, required=True, default=""),
}
CONTACT = {
    "phone_number": Field(_str, required=True, default=""),
    "first_name": Field(_str, required=True, default=""),
    "last_name": Field(_str),
    "user_id": Field(_int),
}
QUOTE = {
    "text": Field(_str, required=True),
    "position": _ZERO,
}

# A message as the dialogue reads it. `reply_to_message` is the same without media or a
# reply of its own (the dialogue reads only its id); its chat is the message's own.
REPLIED = {
    "message_id": Field(_int, required=True),
    "date": Field(_timestamp, required=True, default=0),
    "chat": Field(_object(CHAT)),
    "from": Field(_object(USER)),
    "text": Field(_str),
}
MESSAGE = {
    "message_id": Field(_int, required=True, default=0),
    "date": Field(_timestamp, required=True, default=0),
    "chat": Field(_object(CHAT), required=True),
    "from": Field(_object(USER)),
    "text": Field(_str),
    "caption": Field(_str),
    "photo": Field(_list_of(_object(PHOTO_SIZE))),
    **{kind: Field(_object(spec)) for kind, spec in MEDIA.items()},
    "location": Field(_object(LOCATION)),
    "venue": Field(_object(VENUE)),
    "contact": Field(_object(CONTACT)),
    "sticker": Field(_object(STICKER)),
    "quote": Field(_object(QUOTE)),
    "reply_to_message": Field(_object(REPLIED)),
}
CALLBACK_QUERY = {
    "id": Field(_str, required=True),
    "from": Field(_object(USER), required=True),
    "chat_instance": Field(_str, required=True, default=""),
    "data": Field(_str),
    # The message the button was on, as the sealed intake keeps it (ids and its chat).
    "message": Field(_object({**REPLIED, "chat": Field(_object(CHAT), required=True)})),
}


def _message(value: Any) -> dict[str, Any] | None:
    message = clean_object(MESSAGE, value)
    if message is None:
        return None
    if not message.get("photo"):
        message.pop("photo", None)  # an empty list of sizes is no photo
    replied = message.get("reply_to_message")
    if replied is not None and "chat" not in replied:
        replied["chat"] = dict(message["chat"])  # a reply is in its own chat
    return message


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """The update as the dialogue may read it: its message or button press, cleaned."""
    update_id = _int(raw.get("update_id"))
    if update_id is None:
        raise Unusable("update_id")
    update: dict[str, Any] = {"update_id": update_id}
    if "message" in raw:
        message = _message(raw["message"])
        if message is None:
            raise Unusable("message without its chat")
        update["message"] = message
    if "callback_query" in raw:
        query = clean_object(CALLBACK_QUERY, raw["callback_query"])
        if query is None:
            raise Unusable("callback_query without its id or sender")
        update["callback_query"] = query
    return update


def parse(raw: dict[str, Any]) -> TelegramUpdate:
    """python-telegram-bot's Update for a stored update; `Unusable` when it lacks its
    essentials, never any other error for what Telegram (or anyone) may send."""
    return TelegramUpdate.de_json(clean(raw), None)
