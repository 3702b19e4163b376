"""Absolute links to Krov's own pages, always from KROV_SITE_URL.

Whatever leaves the site and is read elsewhere (calendar UIDs, feed ids, canonical and
hreflang links, link previews, JSON-LD, the API's `url` fields) names the configured
address, never the request's Host header: a wrong or hostile Host must not end up in a
cached page, a feed reader's ids or a search engine's index."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def site() -> str:
    return settings.KROV_SITE_URL.rstrip("/")


def absolute(path: str) -> str:
    """`path` (starting with "/") on the configured site."""
    return site() + path


def host() -> str:
    return urlsplit(settings.KROV_SITE_URL).hostname or "krov"
