"""`{{ value|page_script }}` and `{{ value|page_script:language }}`: Serbian text in the
page's script (Cyrillic on /sr/, Latin on /sr-latn/), any other text as it is. Give the
text's own language when it is stored (a text row's, a listing's, a tag's)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeData, mark_safe

from krov.core.services import in_page_script

register = template.Library()


@register.filter
def page_script(value, language: str | None = None) -> str:
    if value is None:
        return ""
    shown = in_page_script(str(value), language=language or None)
    # Markup, entities and addresses are never converted, so safe text stays safe.
    return mark_safe(shown) if isinstance(value, SafeData) else shown  # noqa: S308
