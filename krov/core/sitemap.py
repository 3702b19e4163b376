"""The site's sitemap.xml, one section per app. Core knows no app: each app registers, in
`AppConfig.ready()`, a function that yields `(path, last_changed)` for its public pages,
e.g. `("/sr/bulletins/slug/", date(2026, 5, 1))`, and `krov.core.views.sitemap_xml` lists
them all under the site's address."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

Pages = Callable[[], Iterable[tuple[str, date]]]

_sections: dict[str, Pages] = {}


def register(name: str, pages: Pages) -> None:
    """Add (or replace, by `name`) an app's part of the sitemap."""
    _sections[name] = pages


def namespaces() -> list[str]:
    """The page-cache namespaces the sitemap shows: a section's name is its app's namespace
    (krov.core.pagecache), so publishing in an app refreshes the cached sitemap."""
    return list(_sections)


def pages() -> Iterator[tuple[str, date]]:
    for section in _sections.values():
        yield from section()
