"""Press-watch tags: a story's state for people, and the "In answer to" line a bulletin's
page shows (`{% include "press/partials/_in_answer_to.html" %}` in the bulletin template;
the bulletins app never imports the press app)."""

from __future__ import annotations

from django import template

from krov.press import fetching
from krov.press.models import Story

register = template.Library()


@register.filter
def story_state(code: str) -> str:
    return str(dict(Story.Status.choices).get(code, code))


@register.filter
def fetch_error(code: str) -> str:
    return fetching.message(code) if code else ""


@register.simple_tag
def answered_story(post) -> Story | None:
    """The story `post` answers, or None (one query)."""
    from krov.press import services

    if post is None or getattr(post, "pk", None) is None:
        return None
    return services.answered_story(post)
