"""Site search, shared by bulletins, guides and the directory: text is stored Latin-
normalised next to the original, and queries get the same treatment, so either Serbian
script finds the other. PostgreSQL ranks with full-text search; SQLite needs every word."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from krov.core.services import to_latin

MAX_WORDS = 8


def normalise(text: str) -> str:
    return to_latin(text or "").casefold()


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
