"""Template filters for months inside sentences (krov.housing.months)."""

from __future__ import annotations

from django import template

from krov.housing import months

register = template.Library()


@register.filter
def month_for(value) -> str:
    return months.month_for(value) if value else ""


@register.filter
def month_since(value) -> str:
    return months.month_since(value) if value else ""


@register.filter
def month_until(value) -> str:
    return months.month_until(value) if value else ""
