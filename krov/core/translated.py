"""Short content written once with translations beside it (a venue's name, a tag): which
text a page shows, and in which language the page must mark it.

The one rule, for every such text in Krov: the translation in the page's language when
there is one (Serbian translations are stored once, as "sr", and shown in the page's
script on "sr" and "sr-latn" pages); else the original, Serbian in the page's script,
any other language as written and marked with its own `lang`. Apps keep their translation
rows (one per language, `translation_language` says which) and call `pick`; templates use
`{{ shown }}` and `{{ shown.language|lang_if_other }}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from krov.core.scripts import SERBIAN_CODES, in_page_script


@dataclass(frozen=True)
class Shown:
    """A text as a page shows it, and the language it is written in (for `lang`)."""

    text: str
    language: str

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def translation_language(page: str) -> str:
    """The language of the stored translation a page in `page` shows: "sr" for both
    Serbian scripts (Latin is derived, never stored), the page's own otherwise."""
    page = page.lower()
    return "sr" if page in SERBIAN_CODES else page


def translatable_languages() -> list[tuple[str, Any]]:
    """(code, name) of the languages a translation can be written in: the site's, without
    Serbian Latin (derived from "sr"); Serbian is named as typed, in either script."""
    from django.conf import settings
    from django.utils.translation import gettext_lazy as _

    return [
        (code, _("Serbian (Cyrillic or Latin)") if code == "sr" else name)
        for code, name in settings.LANGUAGES
        if code != "sr-latn"
    ]


def same_language(one: str, other: str) -> bool:
    """Whether texts in `one` and `other` are in the same language (both Serbian scripts
    are one language)."""
    one, other = (one or "").lower(), (other or "").lower()
    return one == other or {one, other} <= set(SERBIAN_CODES)


def pick(
    original: str,
    original_language: str,
    translations: Mapping[str, str],
    page: str | None = None,
) -> Shown:
    """What a page in `page` (default: the active language) shows of a text written as
    `original` in `original_language`, given its `translations` ({language: text}; blank
    texts count as missing)."""
    from django.conf import settings
    from django.utils.translation import get_language

    page = (page or get_language() or settings.LANGUAGE_CODE).lower()
    stored = translation_language(page)
    original_language = (original_language or "").lower()
    # A translation in the text's own language (left when its language was changed to
    # that one) never hides the original.
    own = bool(original_language) and same_language(stored, original_language)
    translated = "" if own else (translations.get(stored) or "").strip()
    if translated:
        shown = in_page_script(translated, page, language=stored)
        return Shown(shown, page if stored == "sr" else stored)
    shown = in_page_script(original, page, language=original_language or None)
    if page in SERBIAN_CODES and original_language in SERBIAN_CODES:
        return Shown(shown, page)
    return Shown(shown, original_language)
