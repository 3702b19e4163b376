"""The Telegram channel on an administrator's home (krov.core.home): updates parked for
them, counted, one click from the list where they are processed again."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.core.home import Item, Panel
from krov.telegram import services
from krov.telegram.models import Update


def admin_panel(user) -> Panel | None:
    if not user.has_perm("telegram.view_update"):
        return None
    parked = services.parked_updates()
    url = reverse("admin:telegram_update_changelist") + f"?status__exact={Update.Status.PARKED}"
    return Panel(
        key="telegram-admin",
        title=_("Telegram"),
        order=60,
        items=[
            Item(
                _("Telegram updates parked for an administrator"),
                url,
                parked["count"],
                urgent=bool(parked["count"]),
                since=parked["since"],
            ),
        ],
    )
