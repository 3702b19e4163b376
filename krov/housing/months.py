"""A month and year inside a sentence, in the form the sentence needs in each language.

Django knows two forms of a month's name: "F" (its MONTHS: the nominative, which Russian and
Ukrainian write with a capital letter, "Ноябрь") and "E" (MONTHS_ALT: the genitive in
Russian and Ukrainian, "ноября", "листопада"; in English and German the plain name). A month
alone (a table row, a heading) keeps the language's YEAR_MONTH_FORMAT; inside a sentence:

- `month_for`: "Median rent for November 2026", ru "за ноябрь 2026", uk "за листопад 2026":
  Russian and Ukrainian month names are masculine and inanimate, so after "за" (accusative)
  they keep the nominative, in lower case as any common noun in mid-sentence;
- `month_since`: "Since November 2025", ru "С ноября 2025", uk "З листопада 2025": the
  genitive, Django's "E".

Serbian declines months too ("од новембра"), but Django has no genitive for it: its
nominative stays there until a catalogue or CLDR form is available.
"""

from __future__ import annotations

from datetime import date

from django.utils import dateformat, translation
from django.utils.formats import date_format

# Languages whose "E" is the genitive and whose "F" is capitalised in Django's catalogues.
_DECLINED = {"ru", "uk"}


def _declined() -> bool:
    return (translation.get_language() or "").split("-")[0] in _DECLINED


def month_for(month: date) -> str:
    """The month as the object of "for"/"за"."""
    text = date_format(month, "YEAR_MONTH_FORMAT")
    return text[:1].lower() + text[1:] if _declined() else text


def month_since(month: date) -> str:
    """The month after "since"/"с"/"з" (the genitive where the language declines it)."""
    if _declined():
        return dateformat.format(month, "E Y")
    return date_format(month, "YEAR_MONTH_FORMAT")
