"""The newsroom in Chromium, end to end: a matched press story (from a feed served on
127.0.0.1) → "answer with a bulletin" → a written bulletin with a recording → a second
editor publishes it → the page plays it and says what it answers, the press page shows the
story as answered, and the podcast feed lists the episode with its enclosure."""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree
from playwright.sync_api import expect

from krov.accounts import services as account_services
from krov.bulletins.models import Post, Recording
from krov.press import services as press
from krov.press.models import Story, WatchTerm
from tests.browser.conftest import CHROMIUM
from tests.bulletins.audio_files import wav
from tests.conftest import PASSWORD
from tests.press.conftest import FeedServer, fixture_feed, send

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

HEADLINE = "Да ли Руси окупирају Београд?"
STORY_LINK = "https://vesti.example/rusi-beograd"


@pytest.fixture
def feed(settings):
    """The fixture feed, served over HTTP on 127.0.0.1 (private addresses allowed here)."""
    settings.KROV_PRESS_ALLOW_PRIVATE = True
    settings.KROV_PRESS_PROXY = ""
    settings.KROV_PRESS_TIMEOUT = 5
    server = FeedServer().start()
    server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    yield server
    server.stop()


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
def test_a_matched_story_is_answered_with_an_audio_bulletin_that_the_podcast_lists(
    live_server, browser_page, new_browser_page, personas, feed, _media, settings
):
    settings.KROV_SITE_URL = live_server.url  # the feed's and player's absolute addresses
    editor = personas["editor"].user
    second = account_services.create_account(
        email="e2@example.org", pseudonym="Drugo", password=None, roles=["editor"]
    )
    # The watch list (a transactional test starts without the seeded terms) and the source,
    # fetched from the local server as the worker would.
    if not WatchTerm.objects.filter(term="rus").exists():
        press.add_term("rus", actor=editor, endings="- a u om e i ima")
    source = press.add_source(f"{feed.url}/rss", actor=editor, name="Vesti", language="sr")
    assert press.fetch_source(source) > 0
    assert source.last_error == ""
    story = Story.objects.get(source=source, link=STORY_LINK)
    assert story.terms.filter(term="rus").exists()

    # The editor signs in with their password and opens the press page.
    writer = browser_page
    writer.goto(f"{live_server.url}/en/accounts/login/")
    writer.fill("input[name=login]", editor.email)
    writer.fill("input[name=password]", PASSWORD)
    writer.click("main button[type=submit]")
    expect(writer).not_to_have_url(re.compile(r"/accounts/login/"))
    writer.goto(f"{live_server.url}/en/press/")
    row = writer.locator("tr.story", has=writer.locator(f"a[href='{STORY_LINK}']"))
    expect(row.locator("td.title a")).to_have_text(HEADLINE)
    expect(row.locator("td.terms")).to_contain_text("rus")
    expect(row).not_to_have_attribute("data-state", "answered")

    # "Answer with a bulletin": a draft linked to the story, on the editor's page.
    row.get_by_role("button", name="Answer with a bulletin").click()
    writer.wait_for_url("**/bulletins/editor/*/**")
    expect(writer.locator(".post-status")).to_have_text("Draft")
    post = Post.objects.get(press_stories=story)
    assert writer.url.split("?")[0].rstrip("/").endswith(f"/bulletins/editor/{post.slug}")

    # They write it...
    writer.fill("input[name=title]", "Russians in Belgrade: the facts about rents")
    writer.fill("input[name=summary]", "What the numbers say.")
    writer.fill("textarea[name=body]", "Rents rose for **everyone**; here is why.")
    writer.fill("textarea[name=transcript]", "Good evening, this is Krov.")
    writer.get_by_role("button", name="Save", exact=True).click()
    expect(writer.locator("h1")).to_have_text("Russians in Belgrade: the facts about rents")

    # ...attach a recording (processed by the worker, inline in tests)...
    writer.set_input_files(
        "input[name=recording]",
        files=[{"name": "take.wav", "mimeType": "audio/wav", "buffer": wav(2.0)}],
    )
    writer.get_by_role("button", name="Upload the recording").click()
    expect(writer.locator(".recording-status")).to_have_text("Ready")
    expect(writer.locator(".recording-editor audio source")).to_have_count(2)

    # ...and submit it; they may not approve their own bulletin.
    writer.get_by_role("button", name="Submit for review").click()
    expect(writer.locator(".post-status")).to_have_text("In review")
    expect(writer.locator("form.approve-form")).to_have_count(0)

    # A second editor publishes it.
    approver = new_browser_page(second)
    approver.goto(f"{live_server.url}/en/bulletins/editor/{post.slug}/")
    approver.locator("form.approve-form button[type=submit]").click()
    expect(approver.locator(".post-status")).to_have_text("Published")
    recording = Recording.objects.get(post=post)
    assert recording.status == Recording.Status.READY

    # A reader (not signed in) hears it and sees what it answers.
    reader = new_browser_page()
    reader.goto(f"{live_server.url}/en/bulletins/{post.slug}/")
    expect(reader.locator("article .bulletin-audio audio source")).to_have_count(2)
    expect(reader.locator("article .in-answer-to")).to_have_text(
        f"In answer to: {HEADLINE} — Vesti"
    )
    expect(reader.locator("article .in-answer-to a")).to_have_attribute("href", STORY_LINK)
    expect(reader.locator("article .transcript")).to_contain_text("Good evening, this is Krov.")
    mp3 = reader.locator("article .bulletin-audio source[type='audio/mpeg']").get_attribute("src")
    played = reader.request.get(mp3, headers={"Range": "bytes=0-99"})
    assert played.status == 206
    assert played.headers["content-range"] == f"bytes 0-99/{recording.mp3_bytes}"

    # The press page shows the story as answered.
    writer.goto(f"{live_server.url}/en/press/")
    expect(row).to_have_attribute("data-state", "answered")
    expect(row.locator("td.state")).to_contain_text("Answered")
    expect(row.get_by_role("button", name="Answer with a bulletin")).to_have_count(0)

    # The podcast lists the episode with its enclosure (exact length and type).
    response = reader.request.get(f"{live_server.url}/en/bulletins/podcast/")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = etree.fromstring(response.body()).find("channel")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == [
        "Russians in Belgrade: the facts about rents"
    ]
    enclosure = items[0].find("enclosure")
    assert enclosure.get("type") == "audio/mpeg"
    assert enclosure.get("length") == str(recording.mp3_bytes)
    assert enclosure.get("url") == mp3
    assert items[0].findtext("link").endswith(f"/en/bulletins/{post.slug}/")
    whole = reader.request.get(enclosure.get("url"))
    assert whole.status == 200
    assert len(whole.body()) == recording.mp3_bytes

    for page in (writer, approver, reader):
        assert page.csp_violations == []
