"""krov.core.ratelimit: one limiter, hashed keys, windows that end."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from krov.core import ratelimit

NOW = 1_800_000_000.0  # a fixed moment, at the start of an hour


def test_counts_up_to_the_limit_then_refuses():
    results = [ratelimit.hit("t", "alice", limit=3, window=60, now=NOW) for _ in range(5)]
    assert results == [True, True, True, False, False]


def test_keys_are_separate_per_key_and_bucket():
    assert ratelimit.hit("t", "alice", limit=1, window=60, now=NOW)
    assert ratelimit.hit("t", "bob", limit=1, window=60, now=NOW)
    assert ratelimit.hit("u", "alice", limit=1, window=60, now=NOW)
    assert not ratelimit.hit("t", "alice", limit=1, window=60, now=NOW)


def test_a_new_window_starts_a_new_count_under_a_new_key():
    assert ratelimit.hit("t", "alice", limit=1, window=3600, now=NOW)
    assert not ratelimit.hit("t", "alice", limit=1, window=3600, now=NOW + 3599)
    assert ratelimit.hit("t", "alice", limit=1, window=3600, now=NOW + 3600)
    assert len(cache._cache) == 2  # one key per hour, not one key renewed


def test_address_keys_may_not_outlive_an_hour():
    with pytest.raises(ValueError):
        ratelimit.for_address("t", "203.0.113.5", limit=5, window=7200)


@given(address=st.ip_addresses().map(str), offset=st.floats(min_value=0, max_value=86_400))
def test_no_cache_key_holds_the_address_or_lives_past_its_hour(address, offset):
    cache.clear()
    now = time.time()
    ratelimit.for_address("t", address, limit=5, window=3600, now=now + offset)
    for key, expires in cache._expire_info.items():
        assert address not in key
        assert expires - now <= 3601.5


def test_an_ipv6_64_counts_as_one_client():
    first = "2001:db8:1:2:aaaa::1"
    other_in_same_64 = "2001:db8:1:2:ffff:1234:5678:9abc"
    assert ratelimit.for_address("t", first, limit=1, window=60, now=NOW)
    assert not ratelimit.for_address("t", other_in_same_64, limit=1, window=60, now=NOW)
    assert ratelimit.for_address("t", "2001:db8:1:3::1", limit=1, window=60, now=NOW)


def test_ipv4_mapped_addresses_count_as_the_ipv4_address():
    assert ratelimit.client_network("::ffff:203.0.113.9") == "203.0.113.9"


# --- events counted in this process only (the API's cached answers) ---------------------------


class _NoCache:
    """Stands in for the cache where nothing may be written or read."""

    def __getattr__(self, name):
        raise AssertionError(f"the cache was used ({name})")


def test_events_counted_in_process_write_nothing_and_are_still_limited(monkeypatch):
    monkeypatch.setattr(ratelimit, "cache", _NoCache())
    results = [
        ratelimit.for_address("api", "203.0.113.5", limit=3, window=60, now=NOW, in_process=True)
        for _ in range(5)
    ]
    assert results == [True, True, True, False, False]


def test_a_counted_miss_adds_what_this_process_counted_alone():
    """Cached answers are no way around the limit on uncached ones, and an uncached one
    counts the shared tally too: a process sees its own cached answers plus every miss."""
    address = "203.0.113.6"

    def cached():
        return ratelimit.for_address("api", address, limit=3, window=60, now=NOW, in_process=True)

    def uncached():
        return ratelimit.for_address("api", address, limit=3, window=60, now=NOW)

    assert [uncached(), cached(), cached(), cached(), uncached()] == [
        True,
        True,
        True,
        False,
        False,
    ]
    # Another worker (nothing counted there) still refuses this client's uncached queries:
    # the misses were counted in the shared cache, exactly, across processes.
    ratelimit.forget_counted_here()
    assert uncached() is True  # the shared count is 3 now (two misses here, this one)
    assert uncached() is False


def test_counts_kept_in_process_end_with_their_window():
    address = "203.0.113.7"
    for _ in range(2):
        ratelimit.for_address("api", address, limit=1, window=60, now=NOW, in_process=True)
    assert not ratelimit.for_address("api", address, limit=1, window=60, now=NOW, in_process=True)
    later = NOW + 120  # a window later, and past the first one's end
    assert ratelimit.for_address("api", address, limit=1, window=60, now=later, in_process=True)
    # The first window's entry is gone, not merely unused.
    assert len(ratelimit._here._seen) == 1


def test_only_declared_buckets_count_in_process():
    with pytest.raises(ValueError):
        ratelimit.hit("telegram-link", "7", limit=5, window=3600, in_process=True)


def _parsed_network(address: str) -> str:
    """client_network without its IPv4 shortcut."""
    import ipaddress

    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


@given(
    address=st.ip_addresses().map(str)
    | st.text(alphabet="0123456789.:abcdef ", max_size=24)
    | st.text(max_size=12)
)
def test_the_ipv4_shortcut_gives_what_parsing_gives(address):
    assert ratelimit.client_network(address) == _parsed_network(address)
