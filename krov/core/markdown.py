"""User Markdown to safe HTML: Markdown renders, nh3 keeps only harmless tags and links."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "hr",
}


def render(text: str) -> SafeString:
    html = markdown_lib.markdown(text or "", extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


def render_with_toc(text: str) -> tuple[SafeString, list[tuple[str, str]]]:
    """Like `render`, with ids on headings and the list of (id, title) for a table of
    contents (second- and third-level headings)."""
    engine = markdown_lib.Markdown(extensions=["sane_lists", "toc"], output_format="html")
    html = engine.convert(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "h2": {"id"}, "h3": {"id"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    entries: list[tuple[str, str]] = []

    def walk(tokens):
        for token in tokens:
            if token["level"] in (2, 3):
                entries.append((token["id"], token["name"]))
            walk(token.get("children", []))

    walk(getattr(engine, "toc_tokens", []))
    return mark_safe(clean), entries  # noqa: S308 - sanitised by nh3 just above
