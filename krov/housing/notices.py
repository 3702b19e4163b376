"""What the housing board tells people (krov.core.notify)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from krov.core.notify import define


def _with_date(values: dict[str, Any]) -> dict[str, Any]:
    """The stored ISO date, written as the recipient's language writes dates."""
    return {**values, "date": date_format(date.fromisoformat(values["date"]), "DATE_FORMAT")}


FLAGGED = define(
    "housing_flagged",
    subject=_("A housing listing was reported"),
    body=_("A member reported a listing. Look at it on the moderation page."),
)
HIDDEN = define(
    "housing_hidden",
    subject=_("Your listing was hidden"),
    body=_("The moderators hid your listing. Their reason: %(reason)s"),
    params=("reason",),
)
MESSAGE = define(
    "housing_message",
    subject=_("A message about a housing listing"),
    body=_("%(who)s wrote to you about “%(title)s”. Read and answer on Krov."),
    params=("who", "title"),
)
EXPIRING = define(
    "housing_expiring",
    subject=_("Your listing expires soon"),
    body=_("“%(title)s” leaves the board on %(date)s unless you renew it."),
    params=("title", "date"),
    prepare=_with_date,
)
