"""The rate limiter while the cache is down (krov.core.ratelimit): a defined answer per
bucket, never a 500. Reads, the help form and other everyday forms fail open; guessing and
bulk-reading guards fail closed; sign-in (allauth's limits on the same cache) answers 503
with Retry-After through CacheDownMiddleware. Logs name the bucket, never a key or address."""

from __future__ import annotations

import logging

import pytest
import redis
from django.conf import settings
from django.core.cache.backends.base import BaseCache
from django.test import Client, override_settings

from krov.aid.models import HelpRequest
from krov.core import ratelimit

ADDRESS = "203.0.113.9"


class DownCache(BaseCache):
    """A cache whose server does not answer, as Django's Redis backend sees it."""

    def __init__(self, location, params) -> None:
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    add = get = set = touch = delete = incr = clear = has_key = _down
    get_many = set_many = delete_many = _down


CACHE_DOWN = override_settings(
    CACHES={"default": {"BACKEND": "tests.core.test_ratelimit_cache_down.DownCache"}}
)
WITH_MIDDLEWARE = override_settings(
    MIDDLEWARE=[*settings.MIDDLEWARE, "krov.core.ratelimit.CacheDownMiddleware"]
)


@CACHE_DOWN
def test_a_bucket_fails_open_unless_it_is_listed_to_fail_closed(caplog):
    with caplog.at_level(logging.WARNING, logger="krov.core.ratelimit"):
        assert ratelimit.hit("housing-messages", "42", limit=1, window=3600) is True
        assert ratelimit.for_address("aid-intake", ADDRESS, limit=1) is True
        assert ratelimit.hit("telegram-link", "7", limit=5, window=3600) is False
        assert ratelimit.for_address("events-count", f"3:{ADDRESS}", limit=1) is False
    lines = [record.getMessage() for record in caplog.records]
    assert any("aid-intake fails open" in line for line in lines)
    assert any("telegram-link fails closed" in line for line in lines)
    assert not any(ADDRESS in line or "42" in line for line in lines)  # no key, no address


@pytest.mark.django_db
@CACHE_DOWN
def test_a_requester_is_not_refused_because_the_cache_is_down(client, skills):
    response = client.post(
        "/en/help/",
        {
            "language": "uk",
            "skill": "",
            "description": "My mother cannot drive; teach me, please.",
            "urgency": HelpRequest.Urgency.HIGH,
            "submission_key": "k" * 32,
        },
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302, response.status_code
    assert HelpRequest.objects.count() == 1


@pytest.mark.django_db
@CACHE_DOWN
def test_the_public_api_still_answers_reads_when_the_cache_is_down(client):
    assert client.get("/api/v1/events", REMOTE_ADDR=ADDRESS).status_code == 200


@pytest.mark.django_db
@CACHE_DOWN
@WITH_MIDDLEWARE
def test_sign_in_fails_closed_with_503_and_retry_after_when_the_cache_is_down(personas):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/en/accounts/login/",
        {"login": "member@example.org", "password": "wrong"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 503
    assert response["Retry-After"] == str(ratelimit.RETRY_AFTER)
    assert response["Cache-Control"] == "no-store"


def test_the_middleware_leaves_other_errors_alone():
    from django.test import RequestFactory

    middleware = ratelimit.CacheDownMiddleware(lambda request: None)
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, ValueError("no")) is None
    assert middleware.process_exception(request, ConnectionError("elsewhere")) is None
    answer = middleware.process_exception(request, redis.exceptions.TimeoutError("slow"))
    assert answer is not None and answer.status_code == 503


@CACHE_DOWN
def test_a_refusal_because_the_cache_is_down_is_told_apart_from_the_limit():
    assert ratelimit.verdict("aid-attachment", "7", limit=5, window=3600) is (
        ratelimit.Verdict.UNAVAILABLE
    )
    assert ratelimit.verdict("housing-messages", "7", limit=5, window=3600) is (
        ratelimit.Verdict.ALLOWED
    )


def test_the_limit_reached_is_limited_not_unavailable():
    counted = [ratelimit.verdict("aid-attachment", "8", limit=1, window=3600) for _ in range(2)]
    assert counted == [ratelimit.Verdict.ALLOWED, ratelimit.Verdict.LIMITED]


@pytest.fixture
def case_with_files(submit, monkeypatch):
    """A case whose channel has files (a stand-in fetcher: the limit is checked first)."""
    from krov.aid.services import channels

    case, _token = submit("A request with a photo")
    monkeypatch.setitem(channels._attachment_fetchers, case.channel, lambda ref: (b"x", "x/y"))
    return case


def test_a_file_refused_while_the_cache_is_down_says_it_is_the_server(case_with_files, coordinator):
    from krov.aid.services import AidError, fetch_attachment

    with CACHE_DOWN, pytest.raises(AidError, match="cannot count them. Try again in a minute"):
        fetch_attachment(case_with_files, actor=coordinator, ref="photo:abc")


def test_a_file_over_the_limit_says_so(case_with_files, coordinator, monkeypatch):
    from krov.aid.services import AidError, channels, fetch_attachment

    monkeypatch.setattr(channels, "ATTACHMENT_VIEWS_PER_HOUR", 1)
    assert fetch_attachment(case_with_files, actor=coordinator, ref="photo:abc") == (b"x", "x/y")
    with pytest.raises(AidError, match="Too many files opened in the last hour"):
        fetch_attachment(case_with_files, actor=coordinator, ref="photo:abc")
