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


@register.filter
def language_label(language: str | None) -> str:
    """A small visible label ("Russian", in the page's language) before a text that is in
    another language than the page, so that a reader knows before opening it; nothing when
    it is the page's own (the same rule as `lang_if_other`)."""
    from django.conf import settings
    from django.utils.html import format_html

    if not lang_if_other(language):
        return ""
    name = dict(settings.LANGUAGES)[(language or "").lower()]
    return format_html('<span class="badge lang-label">{}</span> ', str(name))


@register.filter
def lang_if_other(language: str | None) -> str:
    """` lang="ru"` for text in another language than the page (screen readers then read it
    in its own voice; translators see it), nothing when it is the page's own. Serbian in
    either script is shown in the page's script, so on a Serbian page it is the page's."""
    from django.conf import settings
    from django.utils.html import format_html
    from django.utils.translation import get_language

    page = (get_language() or "").lower()
    language = (language or "").lower()
    if not language or language not in {code for code, _name in settings.LANGUAGES}:
        return ""
    if language == page or {language, page} <= {"sr", "sr-latn"}:
        return ""
    return format_html(' lang="{}"', language)
