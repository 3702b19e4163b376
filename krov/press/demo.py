"""Demo press watch: a source that Krov serves itself (a static file), its stories matched,
and one of them answered with a published bulletin."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from krov.accounts.models import User
from krov.press import parsing, services
from krov.press.models import Source, Story

FEED = Path(__file__).parent / "static" / "press" / "demo-feed.xml"


def load() -> list[str]:
    url = settings.KROV_SITE_URL.rstrip("/") + settings.STATIC_URL + "press/demo-feed.xml"
    if Source.objects.filter(url=url).exists():
        return ["Demo press watch: already loaded (see /en/press/)."]
    source = services.add_source(url, name="Demo vesti", language="sr")
    services.store_entries(source, parsing.parse(FEED.read_bytes(), "application/rss+xml"))
    lines = ["Demo press watch: one source (served by Krov itself), three matched stories:"]
    editor = User.objects.filter(email="editor@demo.krov.local").first()
    second = User.objects.filter(email="editor2@demo.krov.local").first()
    story = Story.objects.filter(source=source, guid="demo-vesti-1").first()
    if editor and second and story:
        from krov.bulletins import services as bulletins

        post = services.answer_with_bulletin(story, actor=editor, language="sr")
        bulletins.write(
            post,
            actor=editor,
            language="sr",
            title="Не, Руси не окупирају Београд",
            summary="Шта кажу бројке о киријама.",
            body="Кирије су порасле свима; ево података из индекса кирија.",
        )
        bulletins.submit(post, actor=editor)
        bulletins.approve(post, actor=second, seen=bulletins.fingerprint(post))
        lines.append(f"  one answered by /sr/bulletins/{post.slug}/.")
    lines.append("  /en/press/ (editors); the worker fetches the feed every 15 minutes.")
    return lines
