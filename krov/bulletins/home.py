"""Bulletins on a person's home (krov.core.home): what waits for an editor, and the way to
write a bulletin."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.bulletins import services
from krov.core.home import Item, Panel, Section


def editor_tool(user) -> Item | None:
    if not user.has_perm("accounts.edit_bulletins"):
        return None
    return Item(_("Newsroom"), reverse("bulletins:editor"))


def editor_panel(user) -> Panel | None:
    if not user.has_perm("accounts.edit_bulletins"):
        return None
    waiting = services.newsroom_waiting(user)
    newsroom = reverse("bulletins:editor")
    items = [Item(_("Your drafts"), newsroom, waiting["drafts"])]
    if waiting["waiting"] is not None:  # they may publish: what others wrote waits for them
        items.append(
            Item(
                _("Waiting for a second editor"),
                newsroom,
                waiting["waiting"],
                since=waiting["since"],
            )
        )
    # The newsroom page starts a new bulletin in its "New bulletin" section.
    items.append(Item(_("Write a bulletin"), f"{newsroom}#new-heading"))
    items.append(Item(_("Tags and their translations"), reverse("bulletins:tags")))
    return Panel(key="bulletins-editor", title=_("Newsroom"), order=50, items=items)


def latest_section() -> Section:
    """The home page's newest bulletins, with the bulletins list's cards."""
    return Section(
        key="bulletins",
        title=_("Latest bulletins"),
        template="bulletins/partials/_card.html",
        objects=services.latest_published(3),
        more_url=reverse("bulletins:list"),
        more_label=_("All bulletins"),
        order=20,
        empty=_("No bulletins yet."),
    )
