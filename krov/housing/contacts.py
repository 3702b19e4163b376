"""Contact details in a listing's public text: phone numbers, email addresses, messenger
handles and links. The board promises that Krov never shows them (people write through
Krov), so a listing that carries one is refused with a message that says what was found.

Phone numbers are recognised in the ways people write them in Serbia, Russia, Ukraine,
Belarus and elsewhere: +381 64 123 4567, 064/123-4567, 011 2345 678, 8 (912) 345-67-89,
+7 912 345 67 89, +380 (67) 123-45-67, 00381641234567. Dates, prices and sizes are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A run that starts like a phone number and continues in digits and the separators people
# put between their groups (dates such as 01.12.2026 are told apart below).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/–]{6,22}\d(?![\w])")
_DATE = re.compile(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}\.?$")
# "80 000 - 90 000", "1200-1500": a range of amounts, not a number to call.
_AMOUNT = r"(?:[1-9]\d{0,2}(?:[ .]\d{3})+|[1-9]\d{2,5})"
_RANGE = re.compile(rf"^{_AMOUNT}\s*[-–]\s*{_AMOUNT}$")
# The letter O typed for a zero inside a number: "O64 123 4567".
_LETTER_O = re.compile(r"(?<=\d)[OoОо]|[OoОо](?=\d)")
# Email: found from its "@" (or "(at)", " собака " …), then checked on both sides, so the
# search stays linear however long the text is.
_AT = re.compile(r"@|\((?:at|ат)\)|\[(?:at|ат)\]|\{at\}|\s(?:at|собака|ат)\s", re.IGNORECASE)
_DOT = r"\s*(?:\.|\(dot\)|\[dot\]|\s(?:dot|точка)\s)\s*"
# After "@" a bare name counts ("ana@gmail"); after a spelled-out "at" it takes a dot too,
# or "meet me at home" would look like an address.
_DOMAIN = re.compile(rf"\s*[\w-]{{2,63}}(?:{_DOT}[\w-]{{1,63}}){{0,4}}", re.IGNORECASE)
_DOTTED_DOMAIN = re.compile(rf"\s*[\w-]{{2,63}}(?:{_DOT}[\w-]{{1,63}}){{1,4}}", re.IGNORECASE)
# @handle (Telegram, Instagram: 5–32 characters), a messenger's name followed by a handle,
# and links to messengers.
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_NAMED_HANDLE = re.compile(
    r"\b(?:telegram|tg|viber|whatsapp|signal|instagram|insta|телеграмм?|тг|вайбер|ватсап|"
    r"инстаграм|инста)\b\s*[:\-–]\s*@?[A-Za-z][A-Za-z0-9_.]{3,31}",
    re.IGNORECASE,
)
_MESSENGER_LINK = re.compile(
    r"\b(?:t\.me|telegram\.me|telegram\.dog|wa\.me|api\.whatsapp\.com|viber\.click|"
    r"m\.me|signal\.me)\b|\b(?:tg|viber|whatsapp|sgnl)://",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    kind: str
    text: str

    def message(self) -> Promise:
        messages = {
            "phone": _("This looks like a phone number (%(found)s)."),
            "email": _("This looks like an email address (%(found)s)."),
            "handle": _("This looks like a messenger name (%(found)s)."),
            "link": _("This looks like a link to a messenger (%(found)s)."),
        }
        return messages[self.kind]


def _looks_like_phone(candidate: str) -> bool:
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if not 8 <= len(digits) <= 15 or _DATE.match(candidate) or _RANGE.match(candidate):
        return False
    if candidate.startswith(("+", "00")):
        return True
    # National forms: 0… (Serbia, Ukraine), 8… (Russia, Belarus); or a country code
    # written without the plus: 7 and eleven digits, 37…/38… and twelve.
    if digits[0] in "08":
        return True
    return (len(digits) == 11 and digits[0] == "7") or (
        len(digits) == 12 and digits[:2] in {"37", "38"}
    )


def _email(text: str) -> str | None:
    for marker in _AT.finditer(text):
        before = text[: marker.start()].rstrip()
        if not before or not re.match(r"[\w.+-]", before[-1]):
            continue
        pattern = _DOMAIN if marker.group(0) == "@" else _DOTTED_DOMAIN
        domain = pattern.match(text, marker.end())
        if domain is None:
            continue
        local = re.search(r"[\w.+-]{1,64}$", before[-64:])
        start = len(before) - (len(local.group(0)) if local else 0)
        return text[start : domain.end()].strip()
    return None


def find_contact(text: str) -> Found | None:
    """The first contact detail in `text`, or None."""
    if not text:
        return None
    email = _email(text)
    if email:
        return Found("email", email)
    for pattern, kind in (
        (_MESSENGER_LINK, "link"),
        (_NAMED_HANDLE, "handle"),
        (_HANDLE, "handle"),
    ):
        match = pattern.search(text)
        if match:
            return Found(kind, match.group(0))
    digits_text = _LETTER_O.sub("0", text)
    for match in _PHONE.finditer(digits_text):
        candidate = match.group(0).strip().lstrip("(").rstrip(".")
        if _looks_like_phone(candidate):
            return Found("phone", text[match.start() : match.end()].strip())
    return None
