"""What people type for districts, amounts and dates, read the same way everywhere (CSV
import, forms, API). Pure functions: each raises ValueError with a message for people."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils import timezone

# Serbian, Russian and Ukrainian Cyrillic to Serbian Latin, so that "Вождовац" and
# "Voždovac" meet; diacritics are dropped afterwards, so "Vozdovac" meets them too.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "е": "e",
    "ё": "e", "є": "je", "ж": "z", "з": "z", "и": "i", "і": "i", "ї": "ji", "й": "j",
    "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ф": "f", "х": "h",
    "ц": "c", "ч": "c", "џ": "dz", "ш": "s", "щ": "sc", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "ju", "я": "ja",
}  # fmt: skip
_LATIN = {"đ": "dj", "ß": "ss"}


def name_key(name: str) -> str:
    """A district name reduced to ASCII letters and digits: script, case, diacritics, spaces
    and punctuation do not matter ("Savski Venac", "савски венац", "savski-venac")."""
    text = unicodedata.normalize("NFC", name).casefold()
    text = "".join(_CYRILLIC.get(ch, _LATIN.get(ch, ch)) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


_SPACES = re.compile(r"[\s\u00a0\u202f']")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d+)*)")


def parse_amount(raw: str) -> Decimal:
    """A number as people write it: "650", "650.50", "650,50", "1 200", "1.200,50",
    "1,200.50", "1.200.000". With both separators the last one is the decimal point; one
    separator used several times groups thousands; used once it is the decimal point
    ("1.200" is 1.2). Raises ValueError("… is not a number")."""
    text = _SPACES.sub("", (raw or "").strip())
    if not text or not _NUMBER.fullmatch(text):
        raise ValueError(f"{raw.strip()!r} is not a number")
    sign = ""
    if text[0] in "+-":
        sign, text = (text[0] if text[0] == "-" else ""), text[1:]
    separators = [ch for ch in text if ch in ".,"]
    if separators:
        last = separators[-1]
        if len(set(separators)) == 2:
            text = text.replace("." if last == "," else ",", "").replace(last, ".")
        elif len(separators) > 1:  # "1.200.000" or "1,200,000": grouping only
            groups = text.split(last)
            if any(len(g) != 3 for g in groups[1:]):
                raise ValueError(f"{raw.strip()!r} is not a number")
            text = "".join(groups)
        else:
            text = text.replace(last, ".")
    try:
        value = Decimal(sign + text)
    except InvalidOperation:
        raise ValueError(f"{raw.strip()!r} is not a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e9"):
        raise ValueError(f"{raw.strip()!r} is not a number")
    return value


_DATE_FORMS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"(\d{4})-(\d{1,2})"), ("y", "m")),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\.?"), ("d", "m", "y")),
    (re.compile(r"(\d{1,2})\.(\d{4})\.?"), ("m", "y")),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), ("y", "m", "d")),
)


def parse_date(raw: str, *, today: date | None = None) -> date:
    """2024-03-15, 2024-03 (the first of the month), 15.03.2024 or 15.3.2024. (Serbian
    style), 03.2024, 2024/03/15. Not before 2000 and not in the future."""
    text = (raw or "").strip()
    for pattern, order in _DATE_FORMS:
        match = pattern.fullmatch(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                value = date(parts["y"], parts["m"], parts.get("d", 1))
            except ValueError:
                raise ValueError(f"{text!r} is not a date that exists") from None
            break
    else:
        raise ValueError(f"{text!r} is not a date (write 2024-03-15 or 2024-03)")
    if value.year < 2000:
        raise ValueError(f"{text!r} is before the year 2000")
    if value > (today or timezone.localdate()):
        raise ValueError(f"{text!r} is in the future")
    return value


def parse_month(raw: str) -> date:
    """ "2022-02" → date(2022, 2, 1); ValueError otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2200:
        raise ValueError(f"{raw!r} is not a month (write 2022-02)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
