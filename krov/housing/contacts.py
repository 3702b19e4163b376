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
# put between their groups; dots are left out, so dates such as 01.12.2026 never match.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s()\-/–]{6,22}\d(?![\w])")
_DATE = re.compile(r"^\d{1,4}[/\-]\d{1,2}[/\-]\d{1,4}$")
# "80 000 - 90 000", "1200-1500": a range of amounts, not a number to call.
_AMOUNT = r"(?:[1-9]\d{0,2}(?: \d{3})+|[1-9]\d{2,5})"
_RANGE = re.compile(rf"^{_AMOUNT}\s*[-–]\s*{_AMOUNT}$")
_EMAIL = re.compile(
    r"[\w.+-]+\s*(?:@|\(at\)|\[at\]|\{at\}|\s(?:at|собака|ат)\s)\s*[\w-]+"
    r"(?:\s*(?:\.|\(dot\)|\[dot\]|\s(?:dot|точка)\s)\s*[\w-]+)+",
    re.IGNORECASE,
)
# @handle (Telegram, Instagram: 5–32 characters), and links to messengers.
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
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


def find_contact(text: str) -> Found | None:
    """The first contact detail in `text`, or None."""
    if not text:
        return None
    for match in _EMAIL.finditer(text):
        return Found("email", match.group(0).strip())
    for match in _MESSENGER_LINK.finditer(text):
        return Found("link", match.group(0))
    for match in _HANDLE.finditer(text):
        return Found("handle", match.group(0))
    for match in _PHONE.finditer(text):
        candidate = match.group(0).strip().lstrip("(")
        if _looks_like_phone(candidate):
            return Found("phone", match.group(0).strip())
    return None
