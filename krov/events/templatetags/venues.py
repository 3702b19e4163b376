"""`{% with place=event.venue|venue_text %}`: a venue's name, address and accessibility
notes as the page shows them (`{{ place.name }}`, `{{ place.name.language|lang_if_other }}`),
chosen by krov.events.services.venue_text."""

from __future__ import annotations

from django import template

from krov.events import services

register = template.Library()


@register.filter
def venue_text(venue) -> services.VenueText | None:
    if venue is None or venue == "":
        return None
    return services.venue_text(venue)
