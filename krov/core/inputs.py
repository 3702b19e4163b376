"""Reading ids from what a client sent, bounded: never a 500 for a number that is too big
for the database, or for text that is no UUID; and the one check of a time zone's name."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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


def is_time_zone(name: object) -> bool:
    """Whether `name` is an IANA time zone this system knows ("Europe/Belgrade")."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: "../x", NUL, a path; OSError: a folder of zones ("Europe", "Etc").
        return False
    return True


def zone_or(name: str, fallback: str) -> str:
    """`name` if it is a time zone, else `fallback`: for zones stored before they were
    checked, so that a calendar or a clock never fails on one."""
    return name if is_time_zone(name) else fallback


def validate_time_zone(name: object) -> None:
    """Model and form validator: a mistyped zone would fail every calendar and clock that
    shows the thing later (a 500 on the feed), so it is refused where it is typed."""
    if not is_time_zone(name):
        raise ValidationError(
            _("Unknown time zone; write it like Europe/Belgrade."), code="time_zone"
        )
