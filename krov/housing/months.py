"""A month and year inside a sentence, in the form the sentence needs in each language.

Django knows two forms of a month's name: "F" (its MONTHS: the nominative, which Russian and
Ukrainian write with a capital letter, "Ноябрь") and "E" (MONTHS_ALT: the genitive in
Russian and Ukrainian, "ноября", "листопада"; in English and German the plain name). A month
alone (a table row, a heading) keeps the language's YEAR_MONTH_FORMAT; inside a sentence:

- `month_for`: "Median rent for November 2026", ru "за ноябрь 2026", uk "за листопад 2026",
  sr "за новембар 2026.": Russian, Ukrainian and Serbian month names are masculine and
  inanimate, so after "за" (accusative) they keep the nominative, in lower case as any
  common noun in mid-sentence;
- `month_since`: "Since November 2025", ru "С ноября 2025", uk "З листопада 2025",
  sr "Од новембра 2025.": the genitive (Django's "E" in Russian and Ukrainian);
- `month_until`: the end of a span, "from … to November 2026": ru "по ноябрь 2026"
  (accusative: the nominative in lower case), uk "до листопада 2026" and sr "до новембра
  2026." (genitive).

Django has no genitive for Serbian ("E" is the nominative there), so its genitive names are
written here once, in Cyrillic; Serbian Latin is derived from them by Krov's one script
pairing (`krov.core.services.to_latin`). The year keeps the language's YEAR_MONTH_FORMAT
around the name ("новембра 2025." with the Serbian ordinal point).
"""

from __future__ import annotations

from datetime import date

from django.utils import dateformat, translation
from django.utils.formats import date_format, get_format

from krov.core.services import to_latin

# Languages whose "E" is the genitive and whose "F" is capitalised in Django's catalogues.
_DECLINED = {"ru", "uk"}
# After "to"/"по"/"до" at the end of a span: the accusative in Russian, the genitive in
# Ukrainian and Serbian.
_UNTIL_GENITIVE = {"uk", "sr", "sr-latn"}
# Serbian months in the genitive ("од новембра"), January first.
SERBIAN_GENITIVE = (
    "јануара", "фебруара", "марта", "априла", "маја", "јуна",
    "јула", "августа", "септембра", "октобра", "новембра", "децембра",
)  # fmt: skip


def _language() -> str:
    return (translation.get_language() or "").lower()


def _declined() -> bool:
    return _language().split("-")[0] in _DECLINED


def serbian_genitive(month: date, language: str = "sr") -> str:
    """The Serbian genitive name of `month`'s month, in the script of `language`."""
    name = SERBIAN_GENITIVE[month.month - 1]
    return to_latin(name) if language == "sr-latn" else name


def _genitive(month: date) -> str:
    """Month and year with the month in the genitive."""
    language = _language()
    if language in {"sr", "sr-latn"}:
        # The language's own month-and-year format, with the genitive name for "F".
        escaped = "".join("\\" + letter for letter in serbian_genitive(month, language))
        return dateformat.format(month, get_format("YEAR_MONTH_FORMAT").replace("F", escaped))
    if _declined():
        return dateformat.format(month, "E Y")
    return date_format(month, "YEAR_MONTH_FORMAT")


def month_for(month: date) -> str:
    """The month as the object of "for"/"за"."""
    text = date_format(month, "YEAR_MONTH_FORMAT")
    return text[:1].lower() + text[1:] if _declined() else text


def month_since(month: date) -> str:
    """The month after "since"/"from"/"с"/"з"/"од" (the genitive where the language
    declines it)."""
    return _genitive(month)


def month_until(month: date) -> str:
    """The month that ends a span, after "to"/"по"/"до"."""
    if _language() in _UNTIL_GENITIVE:
        return _genitive(month)
    return month_for(month)
