"""A person's home (`/<lang>/dashboard/`): what waits for them, with counts, and every tool
of their roles within two clicks.

Each app registers a provider (in its AppConfig.ready): a function of the signed-in person
that returns a `Panel` for a role they hold, or None. A provider answers with a fixed
number of queries, however much data there is (tests/core/test_home.py counts them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.functional import Promise


@dataclass(frozen=True)
class Item:
    """One line of a panel: a tool, or something waiting (`count`), linked."""

    label: str | Promise
    url: str
    count: int | None = None  # shown as a badge when not None
    urgent: bool = False  # something that must not wait (shown first and marked)
    since: datetime | None = None  # how long the oldest of `count` has waited


@dataclass(frozen=True)
class Panel:
    key: str  # stable: the section's id, e.g. "aid-coordinator"
    title: str | Promise
    items: list[Item] = field(default_factory=list)
    order: int = 50  # smaller first


Provider = Callable[[object], "Panel | None"]

_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """`provider(user)` -> Panel or None; registering a key twice replaces it."""
    _providers[key] = provider


# --- the header's "Your tools": each role's way in, decided without counting anything ------

Tool = Callable[[object], "Item | None"]

_tools: dict[str, tuple[int, Tool]] = {}


def register_tool(key: str, tool: Tool, *, order: int = 50) -> None:
    """`tool(user)` -> the role's main page as an Item (no count), or None for someone
    without the role. It runs on every page a signed-in person opens: permission checks
    only (Django caches a user's permissions for the request), never a count."""
    _tools[key] = (order, tool)


def tools_for(user) -> list[Item]:
    ordered = sorted(_tools.items(), key=lambda entry: (entry[1][0], entry[0]))
    return [item for _key, (_order, tool) in ordered if (item := tool(user)) is not None]


def panels_for(user, *, also: Iterable[Provider] = ()) -> list[Panel]:
    """The panels of every registered provider, and of `also` (the page's own app's), in
    their order."""
    providers = [*_providers.values(), *also]
    panels = [panel for provide in providers if (panel := provide(user)) is not None]
    return sorted(panels, key=lambda panel: (panel.order, panel.key))


# --- the site's home page: what is happening ------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A part of the public home page: a few of an app's newest things, shown with the
    app's own card template (`template`, given `object` for each), and a link to all."""

    key: str
    title: str | Promise
    template: str
    objects: list = field(default_factory=list)
    more_url: str = ""
    more_label: str | Promise = ""
    order: int = 50
    empty: str | Promise = ""


SectionProvider = Callable[[], "Section | None"]

_sections: dict[str, SectionProvider] = {}
# The page-cache namespaces whose changes the home page shows (krov.core.pagecache).
section_namespaces: list[str] = []


def register_section(key: str, provider: SectionProvider, *, namespace: str) -> None:
    """`provider()` -> Section or None; the home page is cached until `namespace` changes."""
    _sections[key] = provider
    if namespace not in section_namespaces:
        section_namespaces.append(namespace)


def sections() -> list[Section]:
    found = [section for provide in _sections.values() if (section := provide()) is not None]
    return sorted(found, key=lambda section: (section.order, section.key))
