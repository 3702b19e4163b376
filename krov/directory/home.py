"""The directory on a person's home (krov.core.home): what waits for a reviewer (proposals,
guides past their verify-by date) and the way to write a guide."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.core.home import Item, Panel
from krov.directory import services


def tool(user) -> Item | None:
    if not services.can_review(user):
        return None
    return Item(_("Directory review"), reverse("directory:review"))


def panel(user) -> Panel | None:
    if not services.can_review(user):
        return None
    waiting = services.review_waiting()
    review = reverse("directory:review")
    return Panel(
        key="directory-review",
        title=_("Directory review"),
        order=60,
        items=[
            Item(
                _("Proposals waiting for review"),
                f"{review}#proposals-heading",
                waiting["proposals"],
                since=waiting["since"],
            ),
            # The review page lists them, each linked to its guide and its "verified" button.
            Item(_("Guides due for checking"), f"{review}#stale-heading", waiting["stale"]),
            Item(_("Add a guide"), reverse("directory:guide_new")),
        ],
    )
