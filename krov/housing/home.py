"""Housing on a person's home (krov.core.home): a member's listings and conversations, and
what waits for the board's moderators, with their other tool (importing rents)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.core.home import Item, Panel
from krov.housing import services


def member_tool(user) -> Item | None:
    if not user.has_perm("accounts.use_member_area"):
        return None
    return Item(_("Your listings"), reverse("housing:mine"))


def moderation_tool(user) -> Item | None:
    if not user.has_perm("accounts.moderate_housing"):
        return None
    return Item(_("Housing moderation"), reverse("housing:moderation"))


def member_panel(user) -> Panel | None:
    if not user.has_perm("accounts.use_member_area"):
        return None
    waiting = services.member_waiting(user)
    return Panel(
        key="housing-member",
        title=_("Housing"),
        order=70,
        items=[
            Item(_("Your listings"), reverse("housing:mine"), waiting["listings"]),
            Item(_("Messages"), reverse("housing:inbox"), waiting["conversations"]),
            Item(_("Offer a room or flat"), reverse("housing:new")),
        ],
    )


def moderation_panel(user) -> Panel | None:
    if not user.has_perm("accounts.moderate_housing"):
        return None
    waiting = services.moderation_waiting()
    return Panel(
        key="housing-moderation",
        title=_("Housing moderation"),
        order=45,
        items=[
            Item(
                _("Flagged listings"),
                reverse("housing:moderation"),
                waiting["flagged"],
                since=waiting["since"],
            ),
            Item(_("Import rents"), reverse("housing:import")),
        ],
    )
