"""Reading ids from what a client sent, bounded: never a 500 for a number that is too big
for the database, or for text that is no UUID."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

# The largest value a 64-bit signed database integer (Django's BigAutoField) holds.
MAX_DB_INT = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def uuid_or_none(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def db_id_or_none(raw: object) -> int | None:
    text = str(raw or "").strip()
    if not _ASCII_DIGITS.fullmatch(text):  # not str.isdigit(): it also accepts "²"
        return None
    value = int(text)
    return value if 0 < value <= MAX_DB_INT else None


def db_ids(values: Iterable[object]) -> list[int]:
    """The values that are database ids; the others are dropped (they match no row)."""
    return [v for v in (db_id_or_none(raw) for raw in values) if v is not None]


def confirmed(request) -> bool:
    """Whether a destructive action was confirmed ("I am sure" ticked: partials/_confirm.html).
    The browser asks for it; this check keeps a form posted without it from doing anything."""
    return request.POST.get("confirm") == "yes"
