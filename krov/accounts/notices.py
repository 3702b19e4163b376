"""What accounts tell people (krov.core.notify)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.core.notify import define


def _named(values: dict[str, Any]) -> dict[str, Any]:
    """Role codes as the recipient's language names them; nobody named: the operator."""
    from krov.accounts import roles

    operator = _("the server operator")
    return {
        **values,
        "roles": ", ".join(str(roles.ROLE_LABELS.get(r, r)) for r in values["roles"]),
        "actor": values["actor"] or operator,
        "confirmer": values["confirmer"] or operator,
    }


# Every coordinator hears of a new volunteer or coordinator, so that a wrong grant is seen;
# it is a safety notice: it comes even to those who chose to receive no notifications.
CASE_ROLE_GRANTED = define(
    "case_role_granted",
    subject=gettext_lazy("New case access: %(pseudonym)s"),
    body=gettext_lazy(
        "%(pseudonym)s can now open cases (%(roles)s). Asked by %(actor)s, confirmed by "
        "%(confirmer)s. If this is wrong, take the role away and tell the other coordinators."
    ),
    params=("pseudonym", "roles", "actor", "confirmer"),
    prepare=_named,
    security=True,
)
