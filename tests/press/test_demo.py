"""`krov demo` gives the press watch a source Krov serves itself, matched stories and one
answered with a published bulletin."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from krov.press import parsing
from krov.press.models import Source, Story
from tests.helpers import soup

pytestmark = pytest.mark.django_db


def test_the_demo_loads_a_press_source_with_matched_and_answered_stories(capsys):
    call_command("demo", "--force")
    call_command("demo", "--force")  # twice: nothing doubled
    source = Source.objects.get()
    assert source.url.endswith("/static/press/demo-feed.xml")
    assert Story.objects.count() == 4
    assert Story.objects.matched().count() == 3
    answered = Story.objects.with_state().get(state="answered")
    page = soup(Client().get(f"/sr-latn/bulletins/{answered.answered_by.slug}/"))
    assert page.select_one(".in-answer-to a").get_text().startswith("Da li Rusi okupiraju")


def test_krov_serves_the_demo_feed_itself():
    response = Client().get("/static/press/demo-feed.xml")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert len(parsing.parse(body)) == 4
