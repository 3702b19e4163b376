"""Reading the entries of a feed: title, summary, link, date, id. Nothing else of the feed
is kept, and no HTML: summaries are stored as plain text."""

from __future__ import annotations

import calendar
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.html import strip_tags

from krov.press.fetching import FetchError

MAX_ENTRIES = 200
TITLE_LENGTH = 300
SUMMARY_LENGTH = 2000


@dataclass(frozen=True)
class Entry:
    guid: str
    link: str
    title: str
    summary: str
    published_at: datetime


def _text(value: object, limit: int) -> str:
    import html

    text = " ".join(html.unescape(strip_tags(str(value or ""))).split())
    return text[:limit]


def _link(value: object) -> str:
    link = str(value or "").strip()
    # Only web addresses become links on the press page (never javascript: or data:).
    return link[:1000] if link.lower().startswith(("http://", "https://")) else ""


def _date(entry, now: datetime) -> datetime:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return now
    try:
        when = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return now
    return min(when, now)  # a date in the future would stay on top of the list


def parse(body: bytes, content_type: str = "") -> list[Entry]:
    """The entries of an RSS or Atom document; `FetchError` when it is not one."""
    import feedparser

    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, resolve_relative_uris=False
    )
    if not parsed.get("version"):
        bozo = parsed.get("bozo_exception")
        if bozo is not None and body.lstrip()[:1] == b"<" and b"<html" not in body[:500].lower():
            raise FetchError("malformed")
        raise FetchError("not_a_feed")
    bozo = parsed.get("bozo_exception")
    if bozo is not None and not isinstance(
        bozo, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType
    ):
        raise FetchError("malformed")
    now = timezone.now()
    entries = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        title = _text(entry.get("title"), TITLE_LENGTH)
        link = _link(entry.get("link"))
        if not title:
            continue
        guid = str(entry.get("id") or link or "").strip()[:500]
        if not guid:
            guid = "sha256:" + hashlib.sha256(title.encode()).hexdigest()
        entries.append(
            Entry(
                guid=guid,
                link=link,
                title=title,
                summary=_text(entry.get("summary"), SUMMARY_LENGTH),
                published_at=_date(entry, now),
            )
        )
    return entries
