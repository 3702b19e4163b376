"""Events on a person's home (krov.core.home): an organiser's next events with who is coming,
the way in to check-in and the live queue of the next one, and their tools."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.core.home import Item, Panel, Section
from krov.events import services
from krov.events.models import Event

# RSVP modes in which names are taken, so that there is someone to check in.
_NAMED = {Event.RSVP.OPEN, Event.RSVP.REQUIRED}


def _title(event: Event) -> str:
    text = event.text()  # the current language, else the original (texts are prefetched)
    return text.title if text else event.slug


def tool(user) -> Item | None:
    if not services.can_organise(user):
        return None
    return Item(_("Events you organise"), reverse("events:manage_list"))


def panel(user) -> Panel | None:
    if not services.can_organise(user):
        return None
    upcoming = services.next_organised(user, limit=3)
    items = [
        # Who is coming: the count the services keep (confirmed RSVPs, or "I'm coming" in
        # count-only mode); an event that takes no RSVPs has nothing to count.
        Item(
            _title(event),
            reverse("events:manage", args=[event.slug]),
            None if event.rsvp_mode == Event.RSVP.NONE else event.going_count,
        )
        for event in upcoming
    ]
    following = next((e for e in upcoming if e.status == Event.Status.PUBLISHED), None)
    if following is not None:
        manage = reverse("events:manage", args=[following.slug])
        title = _title(following)
        if following.rsvp_mode in _NAMED:
            items.append(
                Item(_("Check-in: %(title)s") % {"title": title}, f"{manage}#checkin-heading")
            )
        if following.kind == Event.Kind.OPEN_MIC:
            items.append(
                Item(
                    _("Live queue: %(title)s") % {"title": title},
                    reverse("events:live", args=[following.slug]),
                )
            )
    manage_list = reverse("events:manage_list")
    items.append(Item(_("My events"), manage_list))
    # The list of one's events starts a new one in its "New event" section.
    items.append(Item(_("New event"), f"{manage_list}#new-heading"))
    return Panel(key="events-organiser", title=_("Events you organise"), order=40, items=items)


def upcoming_section() -> Section:
    """The home page's next events, with the events list's cards."""
    return Section(
        key="events",
        title=_("Coming up"),
        template="events/partials/_card.html",
        objects=services.upcoming_public(3),
        more_url=reverse("events:list"),
        more_label=_("All events"),
        order=10,
        empty=_("No events planned yet."),
    )
