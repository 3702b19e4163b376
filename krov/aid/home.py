"""Mutual aid on a person's home (krov.core.home): what waits for a volunteer and for a
coordinator, and their tools."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.aid import services
from krov.core.home import Item, Panel


def volunteer_tool(user) -> Item | None:
    if not user.has_perm("accounts.answer_help_requests"):
        return None
    return Item(_("Mutual aid"), reverse("aid:console"))


def coordinator_tool(user) -> Item | None:
    if not user.has_perm("accounts.triage_help_requests"):
        return None
    return Item(_("Coordination"), reverse("aid:triage"))


def volunteer_panel(user) -> Panel | None:
    profile = services.profile_of(user)
    if profile is None and not user.has_perm("accounts.answer_help_requests"):
        return None
    # Someone just given the role has no profile yet: their tools, with nothing waiting.
    waiting = (
        services.volunteer_waiting(profile) if profile is not None else {"offers": 0, "cases": 0}
    )
    console = reverse("aid:console")
    return Panel(
        key="aid-volunteer",
        title=_("Mutual aid"),
        order=10,
        items=[
            Item(
                _("Offers waiting for your answer"),
                console,
                waiting["offers"],
                urgent=bool(waiting["offers"]),
            ),
            Item(_("Your open cases"), console, waiting["cases"]),
            Item(_("Your skills, languages and hours"), reverse("aid:profile")),
            Item(_("My key (sealed cases)"), reverse("aid:keys")),
            Item(_("Telegram"), reverse("telegram_web:link")),
        ],
    )


def coordinator_panel(user) -> Panel | None:
    if not user.has_perm("accounts.triage_help_requests"):
        return None
    waiting = services.desk_waiting()
    triage = reverse("aid:triage")
    silent = [
        custodian for custodian, _key in services.custodians() if services.is_silent(custodian)
    ]
    return Panel(
        key="aid-coordinator",
        title=_("Coordination"),
        order=5,
        items=[
            Item(
                _("Life or safety, not answered yet"),
                f"{triage}?urgency=3",
                waiting["critical"],
                urgent=bool(waiting["critical"]),
                since=waiting["critical_since"],
            ),
            Item(_("New, not triaged yet"), triage, waiting["new"], since=waiting["new_since"]),
            Item(
                _("Taken or offered, not answered yet"),
                triage,
                waiting["unanswered"],
                since=waiting["unanswered_since"],
            ),
            *(
                [
                    Item(
                        _("Key custodians not heard from"),
                        reverse("aid:keys"),
                        len(silent),
                        urgent=True,
                    )
                ]
                if silent
                else []
            ),
            Item(_("Volunteers"), reverse("aid:volunteers")),
            Item(_("Skills and canned replies"), reverse("aid:catalogue")),
            Item(_("Figures"), reverse("aid:dashboard")),
            Item(_("Role requests"), reverse("accounts:role_requests")),
        ],
    )
