"""Krov's one rate limiter: fixed windows counted in the shared cache under hashed keys.

The cache key is an HMAC of the bucket, the window's number and the caller's key (an
account id, a chat, a client address), so it never holds the address itself, changes with
every window and expires with it. Keys derived from a client address may only be used
with windows of at most an hour (`for_address`): no entry lets anyone tie a request to an
address for longer than that.
"""

from __future__ import annotations

import ipaddress
import time

from django.core.cache import cache
from django.utils.crypto import salted_hmac

MAX_ADDRESS_WINDOW = 3600


def _cache_key(bucket: str, key: str, window: int, now: float) -> str:
    number = int(now // window)
    digest = salted_hmac(f"krov.ratelimit.{bucket}", f"{number}:{key}", algorithm="sha256")
    return f"rl:{bucket}:{digest.hexdigest()[:40]}"


def hit(bucket: str, key: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one event for `key` in `bucket`; False once `limit` events fell in this window."""
    now = time.time() if now is None else now
    cache_key = _cache_key(bucket, key, window, now)
    # The entry lives until its window ends (plus a second of slack), never longer.
    timeout = max(1, int(window - now % window) + 1)
    if cache.add(cache_key, 1, timeout=timeout):
        return limit >= 1
    try:
        return cache.incr(cache_key) <= limit
    except ValueError:  # expired between add and incr: a fresh window
        cache.add(cache_key, 1, timeout=timeout)
        return limit >= 1


def for_address(
    bucket: str, address: str, *, limit: int, window: int = 3600, now: float | None = None
) -> bool:
    """`hit` for a key derived from a client address: the window is at most an hour."""
    if window > MAX_ADDRESS_WINDOW:
        raise ValueError("a key derived from a client address may live an hour at most")
    return hit(f"addr.{bucket}", client_network(address), limit=limit, window=window, now=now)


def client_network(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one household or phone
    gets a whole /64, and could otherwise pick a fresh address for every request)."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)
