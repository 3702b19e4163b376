"""Filters for the page's description and link-preview tags (partials/_page_meta.html)."""

from __future__ import annotations

import html

from django import template
from django.utils.html import strip_tags

register = template.Library()


@register.filter
def plain_text(value, length: int = 300) -> str:
    """`value` (plain text, or HTML such as rendered Markdown) as plain text on one line, at
    most `length` characters: tags dropped, entities read, whitespace folded. The result is
    not marked safe, so the template escapes it once for the attribute it goes into (HTML
    that was marked safe would otherwise reach the attribute with its quotes unescaped)."""
    text = " ".join(html.unescape(strip_tags(str(value or ""))).split())
    if len(text) > length:
        text = text[: length - 1].rstrip() + "…"
    return text
