"""The `page_script` template filter (krov.core.templatetags.scripts)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

TEMPLATE = Template("{% load scripts %}{{ text|page_script:language }}")


def _render(page: str, text, language: str = "") -> str:
    with translation.override(page):
        return TEMPLATE.render(Context({"text": text, "language": language}))


@pytest.mark.parametrize(
    ("page", "text", "language", "shown"),
    [
        ("sr", "Kvaka 22", "", "Квака 22"),
        ("sr-latn", "Квака 22", "", "Kvaka 22"),
        ("sr-latn", "Квака 22", "ru", "Квака 22"),
        ("en", "Квака 22", "", "Квака 22"),
        ("sr", None, "", ""),
    ],
)
def test_the_filter_shows_serbian_in_the_pages_script(page, text, language, shown):
    assert _render(page, text, language) == shown


def test_the_filter_escapes_plain_text_and_keeps_safe_markup_safe():
    assert _render("sr", "<b>rat</b>") == "&lt;b&gt;рат&lt;/b&gt;"
    assert _render("sr", mark_safe("<b>rat</b> &amp; mir")) == "<b>рат</b> &amp; мир"  # noqa: S308
