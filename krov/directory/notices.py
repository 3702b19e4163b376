"""What the directory tells proposers and reviewers (krov.core.notify)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from krov.core.notify import define

APPROVED = define(
    "directory_approved",
    subject=_("Krov: your proposal for the directory was approved"),
    body=_("Thank you. Your proposal is now in the directory."),
)
REJECTED = define(
    "directory_rejected",
    subject=_("Krov: your proposal for the directory"),
    body=_("Your proposal was not taken into the directory. The reviewer wrote: %(reason)s"),
    params=("reason",),
)
GUIDES_STALE = define(
    "guides_stale",
    subject=_("Krov: guides to verify"),
    body=ngettext_lazy(
        "%(count)s guide is past its verification date.",
        "%(count)s guides are past their verification date.",
        "count",
    ),
    params=("count",),
)
