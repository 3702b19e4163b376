"""Shared by every part of the aid services: errors, codes, keyed hashes, text checks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.dispatch import Signal
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from krov.aid.models import (
    AID_LANGUAGES,
    HelpRequest,
)
from krov.core import ratelimit

Status = HelpRequest.Status
Outcome = HelpRequest.Outcome

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ALIAS_WORDS = [
    "Lark",
    "Birch",
    "Linden",
    "Heron",
    "Maple",
    "Otter",
    "Swift",
    "Aspen",
    "Rowan",
    "Wren",
    "Finch",
    "Willow",
    "Cedar",
    "Robin",
    "Hazel",
    "Falcon",
    "Clover",
    "Fern",
    "Sparrow",
    "Juniper",
    "Elm",
    "Kestrel",
    "Poplar",
    "Thrush",
    "Alder",
]


# Sent inside the purge of a case, before its id changes; apps that link to cases (the
# Telegram chat of the requester) drop their links. Argument: case.
case_purged = Signal()


class AidError(Exception):
    """A request the desk cannot carry out; the message is for people."""


class CaseClosed(AidError):
    """Someone wrote to a case that is closed."""


class RateLimited(AidError):
    """Too much, too fast; the message says when to try again."""


@dataclass
class Submitted:
    request: HelpRequest
    token: str
    created: bool


def keyed_hash(purpose: str, value: str) -> str:
    return salted_hmac(f"krov.aid.{purpose}", value, algorithm="sha256").hexdigest()


def _new_code() -> str:
    return "K-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def _new_alias() -> str:
    return f"{secrets.choice(ALIAS_WORDS)}-{secrets.randbelow(90) + 10}"


def serving_language(code: str | None) -> str:
    """The desk language for `code`: itself if served, Serbian for sr-latn, else English."""
    code = (code or "").lower().replace("_", "-")
    if code.startswith("sr"):
        return "sr"
    code = code.split("-")[0]
    return code if code in AID_LANGUAGES else "en"


def check_text(text: str, *, what: str | Promise) -> str:
    text = (text or "").strip()
    if not text:
        raise AidError(_("Please write %(what)s.") % {"what": what})
    if len(text) > settings.KROV_AID_MAX_TEXT:
        raise AidError(too_long(len(text)))
    return text


def too_long(length: int) -> str:
    """What a person is told about a text over the limit (also when it was never stored)."""
    return _("Please keep it under %(limit)s characters (you wrote %(length)s).") % {
        "limit": settings.KROV_AID_MAX_TEXT,
        "length": length,
    }


def intake_terms() -> dict[str, int]:
    """What the request form promises: how long the text is kept, how long it may be."""
    return {
        "retention_days": settings.KROV_RETENTION_DAYS,
        "max_text": settings.KROV_AID_MAX_TEXT,
    }


def intake_allowed(client_address: str) -> bool:
    """Count one web submission for this client; False once the hourly limit is reached.

    Counted under a key that changes every hour and expires with it (krov.core.ratelimit).
    """
    return ratelimit.for_address(
        "aid-intake", client_address, limit=settings.KROV_INTAKE_PER_HOUR, window=3600
    )
