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
