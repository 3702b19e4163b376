"""`{% with shown=tag|tag_name %}`: a tag's name as the page shows it (`{{ shown }}`,
`{{ shown.language|lang_if_other }}`), chosen by krov.bulletins.services.tag_name."""

from __future__ import annotations

from django import template

from krov.bulletins import services

register = template.Library()


@register.filter
def tag_name(tag):
    return services.tag_name(tag)
