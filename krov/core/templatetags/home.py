"""`{% your_tools as tools %}`: the signed-in person's tools for the header (krov.core.home)."""

from __future__ import annotations

from django import template

from krov.core import home

register = template.Library()


@register.simple_tag(takes_context=True)
def your_tools(context) -> list[home.Item]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return home.tools_for(user)
