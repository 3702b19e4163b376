"""Site search, shared by bulletins, guides and the directory: text is stored Latin-
normalised next to the original, and queries get the same treatment, so either Serbian
script finds the other. PostgreSQL ranks with full-text search; SQLite needs every word.

The search page (`krov.core.views.search`) knows no app: each app registers its section
in `AppConfig.ready()` with `register()`, naming a function that finds its results and a
template that shows them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from krov.core.services import serbian_twin, to_latin

MAX_WORDS = 8


def normalise(text: str) -> str:
    """The searched form: composed (NFC, so "ć" typed as c and a combining accent is the
    "ć" typed as one letter), Latin, case-folded."""
    return to_latin(unicodedata.normalize("NFC", text or "")).casefold()


def searched(text: str) -> str:
    """`text` as a substring search compares it (venues, tags): normalised, each run of
    white space one space, on the text searched as on what was typed."""
    return normalise(" ".join(text.split()))


def words(query: str) -> list[str]:
    return [w for w in normalise(query).split() if w][:MAX_WORDS]


def match(queryset: QuerySet, field: str, query: str) -> QuerySet:
    terms = words(query)
    if not terms:
        return queryset.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        safe = ["".join(ch for ch in w if ch.isalnum()) for w in terms]
        safe = [w for w in safe if w] or ["_"]
        tsquery = SearchQuery(
            " & ".join(f"{w}:*" for w in safe), config="simple", search_type="raw"
        )
        return (
            queryset.annotate(rank=SearchRank(SearchVector(field, config="simple"), tsquery))
            .filter(rank__gt=0)
            .order_by("-rank")
        )
    condition = Q()
    for word in terms:
        condition &= Q(**{f"{field}__contains": word})
    return queryset.filter(condition)


def one_per(rows, owner: str, *, language: str | None = None, original: str = "") -> list[Any]:
    """Of matching text rows (each with a `language`, several per thing), one per thing
    (`owner`: the attribute naming it, e.g. "post_id"), in the order found: the row in the
    page's `language` (default: the active one), else the one in the page's other Serbian
    script (shown converted), else the one in the thing's original language
    (`original`: "post.original_language"), else the first found."""
    language = language or get_language() or ""
    twin = serbian_twin(language)
    wanted = [language, twin[0]] if twin else [language]
    found: dict[Any, list[Any]] = {}
    for row in rows:
        found.setdefault(getattr(row, owner), []).append(row)
    chosen = []
    for candidates in found.values():
        by_language = {row.language: row for row in candidates}
        best = next((by_language[code] for code in wanted if code in by_language), None)
        if best is None and original:
            first = candidates[0]
            for part in original.split("."):
                first = getattr(first, part)
            best = by_language.get(first)
        chosen.append(best or candidates[0])
    return chosen


# --- the search page's sections, one or more per app ------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the search page. `find(query)` returns what matches (a queryset or any
    sliceable sequence); the page shows at most `limit` of it with `template`, which gets
    `results` and `query`. Sections appear by `position`, lowest first."""

    name: str
    find: Callable[[str], Any]
    template: str
    limit: int
    position: int


@dataclass(frozen=True)
class Found:
    section: Section
    results: list[Any]


_sections: dict[str, Section] = {}


def register(
    name: str, *, find: Callable[[str], Any], template: str, limit: int, position: int = 100
) -> None:
    """Add (or replace, by `name`) a section of the search page."""
    _sections[name] = Section(name, find, template, limit, position)


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda section: (section.position, section.name))


def search(query: str) -> list[Found]:
    """Every section's results for `query`; a blank query asks no section and finds nothing."""
    if not query.strip():
        return [Found(section, []) for section in sections()]
    return [Found(section, list(section.find(query)[: section.limit])) for section in sections()]
