"""`{% your_tools as tools %}`: the signed-in person's tools for the header (krov.core.home)."""

from __future__ import annotations

from django import template
from django.utils.crypto import salted_hmac

from krov.core import home

register = template.Library()


@register.simple_tag(takes_context=True)
def your_tools(context) -> list[home.Item]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return home.tools_for(user)


@register.filter
def device_owner(user) -> str:
    """Which signed-in person's list this browser keeps (RSVPs kept on this device): an
    opaque keyed hash, so that two accounts on one browser never see each other's list and
    the stored name reveals nobody."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return salted_hmac("krov.device-rsvps", str(user.pk), algorithm="sha256").hexdigest()[:24]
