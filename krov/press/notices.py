"""What the press watch tells editors (krov.core.notify): a weekly digest, written in each
editor's language when it is delivered."""

from __future__ import annotations

from typing import Any

from django.utils.translation import ngettext_lazy

from krov.core.notify import define


def _in_script(values: dict[str, Any]) -> dict[str, Any]:
    """The headlines (`title`, one a line) with Serbian in the recipient's script; the
    letters decide (Russian and Ukrainian are never converted as if Serbian)."""
    from krov.core.services import in_page_script

    return {**values, "title": in_page_script(str(values["title"]))}


# `count`: matched stories fetched in the last seven days; `title`: their headlines.
WEEKLY_DIGEST = define(
    "press_weekly_digest",
    subject=ngettext_lazy(
        "Krov press watch: %(count)s new story this week",
        "Krov press watch: %(count)s new stories this week",
        "count",
    ),
    body=ngettext_lazy(
        "The watched press wrote %(count)s story about us this week:\n\n%(title)s",
        "The watched press wrote %(count)s stories about us this week:\n\n%(title)s",
        "count",
    ),
    params=("count", "title"),
    prepare=_in_script,
)
