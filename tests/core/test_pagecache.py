from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from krov.core import pagecache
from tests.conftest import make_persona

pytestmark = pytest.mark.django_db


def test_anonymous_home_page_is_served_from_cache_without_queries(client):
    first = client.get("/en/")
    assert first[pagecache.HEADER] == "miss"
    with CaptureQueriesContext(connection) as ctx:
        second = client.get("/en/")
    assert second[pagecache.HEADER] == "hit"
    assert second.content == first.content
    assert len(ctx.captured_queries) == 0
    # Headers still come from the middleware on every response.
    assert "script-src 'self'" in second["Content-Security-Policy"]


def test_each_language_has_its_own_entry(client):
    english = client.get("/en/")
    client.get("/ru/")
    russian = client.get("/ru/")
    assert russian[pagecache.HEADER] == "hit"
    assert russian.content != english.content
    assert b'lang="ru"' in russian.content


def test_signed_in_users_never_get_the_cached_page(login_as):
    Client().get("/en/")  # fill the cache anonymously
    client = login_as(make_persona("member"))
    response = client.get("/en/")
    assert pagecache.HEADER not in response
    assert b"MemberPersona" in response.content


def test_a_visitor_with_a_pending_message_is_not_served_from_cache(client):
    client.get("/en/")
    client.cookies["messages"] = "anything"
    assert pagecache.HEADER not in client.get("/en/")


def test_invalidate_drops_every_cached_page_of_the_namespace(
    client, django_capture_on_commit_callbacks
):
    client.get("/en/")
    assert client.get("/en/")[pagecache.HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        pagecache.invalidate("home")
    assert client.get("/en/")[pagecache.HEADER] == "miss"


def test_invalidation_waits_for_the_commit_and_a_rollback_keeps_the_cache(client):
    """Invalidating before the commit would let a visitor re-cache the old page."""
    from django.db import transaction

    client.get("/en/")
    with transaction.atomic():
        pagecache.invalidate("home")
        # Not committed yet: the page is still the cached one, nobody can cache anew.
        assert client.get("/en/")[pagecache.HEADER] == "hit"
        transaction.set_rollback(True)
    assert client.get("/en/")[pagecache.HEADER] == "hit"


def test_nothing_is_cached_in_debug(client, settings):
    settings.DEBUG = True
    client.get("/en/")
    assert pagecache.HEADER not in client.get("/en/")


# --- answered early, with the same headers ---------------------------------------------------

# Headers that belong to one exchange, or say hit/miss.
PER_EXCHANGE = {"Date", pagecache.HEADER}


def headers(response) -> dict[str, str]:
    return {k: v for k, v in response.items() if k not in PER_EXCHANGE}


def test_a_hit_sends_every_header_the_miss_sent(client):
    miss = client.get("/en/", secure=True)
    hit = client.get("/en/", secure=True)
    assert (miss[pagecache.HEADER], hit[pagecache.HEADER]) == ("miss", "hit")
    assert headers(hit) == headers(miss)
    for name in (
        "Content-Security-Policy",
        "Strict-Transport-Security",
        "Referrer-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Cross-Origin-Opener-Policy",
        "Permissions-Policy",
        "Content-Language",
        "ETag",
    ):
        assert hit[name], name


def test_plain_http_hits_still_go_to_https_first(client, settings):
    client.get("/en/", secure=True)
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/en/")  # a new handler reads the setting
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_a_hit_is_answered_before_the_url_resolver_and_the_view(client, monkeypatch):
    from django.urls.resolvers import URLResolver

    client.get("/en/")

    def no_resolving(self, path):
        raise AssertionError("resolved a URL for a cached page")

    monkeypatch.setattr(URLResolver, "resolve", no_resolving)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/en/")
    assert response[pagecache.HEADER] == "hit"
    assert ctx.captured_queries == []


def test_any_session_cookie_skips_the_cache(client):
    from django.conf import settings

    client.get("/en/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-even-a-real-session"
    assert pagecache.HEADER not in client.get("/en/")


def test_post_and_htmx_requests_are_never_answered_from_cache(client):
    client.get("/en/")
    assert client.post("/en/").status_code == 405
    assert pagecache.HEADER not in client.get("/en/", HTTP_HX_REQUEST="true")


def test_head_is_answered_from_what_a_get_stored(client):
    assert pagecache.HEADER not in client.head("/en/")  # a HEAD alone stores nothing
    client.get("/en/")
    head = client.head("/en/")
    assert head[pagecache.HEADER] == "hit"
    assert head.content == b""


def test_a_cached_page_answers_a_matching_etag_with_304(client):
    miss = client.get("/en/")
    assert client.get("/en/", HTTP_IF_NONE_MATCH=miss["ETag"]).status_code == 304
    hit = client.get("/en/")
    assert hit["ETag"] == miss["ETag"]
    assert client.get("/en/", HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_each_host_has_its_own_entry(client):
    client.get("/robots.txt", HTTP_HOST="localhost")
    other = client.get("/robots.txt", HTTP_HOST="127.0.0.1")
    assert other[pagecache.HEADER] == "miss"
    assert client.get("/robots.txt", HTTP_HOST="127.0.0.1")[pagecache.HEADER] == "hit"


def test_a_host_not_allowed_is_refused_even_when_a_page_is_cached(client):
    client.get("/en/")
    assert client.get("/en/", HTTP_HOST="evil.example").status_code == 400


def test_a_lost_version_counter_never_brings_back_an_old_page(
    client, django_capture_on_commit_callbacks
):
    """A counter the cache evicted starts again from the clock, not from 1: lost with the
    epoch, the page is rendered again; lost alone, the next change still refreshes it."""
    from django.core.cache import cache

    client.get("/en/")
    cache.delete_many(["krov:pagever:home", pagecache._EPOCH_KEY])
    assert client.get("/en/")[pagecache.HEADER] == "miss"
    assert client.get("/en/")[pagecache.HEADER] == "hit"
    cache.delete("krov:pagever:home")
    with django_capture_on_commit_callbacks(execute=True):
        pagecache.invalidate("home")
    assert client.get("/en/")[pagecache.HEADER] == "miss"
    assert client.get("/en/")[pagecache.HEADER] == "hit"


class _CountingReads:
    """The cache, counting what a request reads from it."""

    def __init__(self, cache):
        self.cache, self.reads = cache, 0

    def __getattr__(self, name):
        if name in ("get", "get_many"):
            self.reads += 1
        return getattr(self.cache, name)


def test_a_hit_is_two_cache_reads_however_many_namespaces_the_page_shows(client, monkeypatch):
    from krov.core import home

    assert len(["home", *home.section_namespaces]) >= 3
    client.get("/en/")
    counting = _CountingReads(pagecache.cache)
    monkeypatch.setattr(pagecache, "cache", counting)
    assert client.get("/en/")[pagecache.HEADER] == "hit"
    assert counting.reads == 2  # the entry and the epoch


def test_a_change_elsewhere_keeps_the_page_and_it_is_two_reads_again(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    client.get("/en/")
    with django_capture_on_commit_callbacks(execute=True):
        pagecache.invalidate("housing")  # not on the home page
    counting = _CountingReads(pagecache.cache)
    monkeypatch.setattr(pagecache, "cache", counting)
    assert client.get("/en/")[pagecache.HEADER] == "hit"  # its versions compared
    assert counting.reads == 3
    counting.reads = 0
    assert client.get("/en/")[pagecache.HEADER] == "hit"  # stored again under the new epoch
    assert counting.reads == 2


def test_a_page_rendered_while_its_namespace_changed_is_never_served(rf):
    """The versions are read before rendering; a change committed meanwhile bumps them (and
    the epoch) after, so the entry is stale from the start."""
    from django.http import HttpResponse
    from django.utils import translation

    request = rf.get("/en/somewhere/")
    request._krov_page_cache_started = True
    pagecache.declare(request, ["home"])
    pagecache._bump("home")  # committed while the page rendered
    with translation.override("en"):
        assert pagecache.store(request, HttpResponse("old"))[pagecache.HEADER] == "miss"
    assert pagecache.lookup(rf.get("/en/somewhere/")) is None


def test_the_sitemap_is_cached_and_refreshed_by_its_sections(
    client, django_capture_on_commit_callbacks
):
    client.get("/sitemap.xml")
    assert client.get("/sitemap.xml")[pagecache.HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        pagecache.invalidate("bulletins")
    assert client.get("/sitemap.xml")[pagecache.HEADER] == "miss"


def test_a_cache_that_does_not_answer_costs_caching_not_the_page(client, settings):
    """Redis down (or the disk cache locked): public pages are rendered and sent uncached,
    never a 500, and a change that invalidates them still commits."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    for path in ("/en/", "/en/events/", "/robots.txt", "/sitemap.xml"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert pagecache.HEADER not in response, path
    pagecache._bump("events")  # logged, not raised
