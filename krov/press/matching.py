"""Matching stories against the watch list.

A term is a word stem and the endings its grammatical forms may have. Both the story and
the term are compared in Krov's one Latin-normalised form (krov.core.search.normalise), so
"Русима" and "Rusima" are the same word. A term matches a whole word only: the stem, then
exactly one of its endings, with no letter before or after. So "rus" with the endings of a
Serbian noun finds Rus, Rusa, Rusi, Rusima, Ruse, and not rusvaj, rustikalan or Rusija
(the country is a term of its own when editors want it). Everything a term holds is
escaped: an editor's input is never a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from krov.core.search import normalise

# Letters, digits and the underscore are word characters (Unicode-aware: š, ć, đ are too).
_BEFORE = r"(?<!\w)"
_AFTER = r"(?!\w)"
MAX_ENDINGS = 40
MAX_ENDING_LENGTH = 10


def text_for_matching(*parts: str) -> str:
    """The Latin-normalised text of a story: lower case, one space between words."""
    return " ".join(normalise(" ".join(part for part in parts if part)).split())


def clean_stem(stem: str) -> str:
    return " ".join(normalise(stem).split())


def clean_endings(endings: str) -> list[str]:
    """Endings in Latin, lower case, without repeats; "-" stands for no ending."""
    seen: list[str] = []
    for ending in normalise(endings).replace(",", " ").split():
        if ending not in seen:
            seen.append(ending)
    return seen


def pattern(stem: str, endings: Iterable[str]) -> re.Pattern[str]:
    """The stem followed by exactly one of `endings` ("" or "-": the stem alone), as a
    whole word."""
    forms = sorted({"" if e == "-" else e for e in endings} or {""}, key=len, reverse=True)
    alternatives = "|".join(re.escape(form) for form in forms)
    return re.compile(_BEFORE + re.escape(stem) + "(?:" + alternatives + ")" + _AFTER)


@dataclass(frozen=True)
class Matcher:
    """The watch list, compiled once for a batch of stories."""

    patterns: tuple[tuple[int, re.Pattern[str]], ...]

    @classmethod
    def from_terms(cls, terms: Iterable) -> Matcher:
        """`terms`: WatchTerm rows (or anything with pk, term and ending_list())."""
        return cls(
            tuple(
                (term.pk, pattern(clean_stem(term.term), term.ending_list()))
                for term in terms
                if clean_stem(term.term)
            )
        )

    def matches(self, text: str) -> list[int]:
        """The ids of the terms found in `text` (already Latin-normalised)."""
        return [pk for pk, compiled in self.patterns if compiled.search(text)]
