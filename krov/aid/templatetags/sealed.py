"""`{% sealed value "field" %}`: a case text as the page shows it.

A sealed value (krov.core.sealing) goes into the page as ciphertext in a data attribute;
the reader's browser opens it (aid/sealed-case.js). Text of a case from before sealing is
shown as it is, escaped, with line breaks."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.translation import gettext as _

from krov.core import sealing

register = template.Library()


@register.simple_tag(takes_context=True)
def device_key(context) -> str:
    """The session's device key for aid/keys.js (see services.device_key)."""
    from krov.aid import services

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return ""
    return services.device_key(request.session)


@register.simple_tag
def sealed(value: str, field: str):
    if not sealing.is_sealed(value or ""):
        return linebreaksbr(value or "", autoescape=True)
    return format_html(
        '<span class="sealed" data-sealed="{}" data-field="{}">{}</span>',
        value,
        field,
        _("Sealed: open your key to read this."),
    )
