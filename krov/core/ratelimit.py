"""Krov's one rate limiter: fixed windows counted in the shared cache under hashed keys.

The cache key is an HMAC of the bucket, the window's number and the caller's key (an
account id, a chat, a client address), so it never holds the address itself, changes with
every window and expires with it. Keys derived from a client address may only be used
with windows of at most an hour (`for_address`): no entry lets anyone tie a request to an
address for longer than that.

When the cache cannot be reached (Redis down, a broken disk cache), a limit answers in a
defined way instead of a 500, chosen per bucket (docs/operations.md, "Rate limits while the
cache is down"):

- fail open (the default): the event is allowed. Reads (the public API), the help form and
  a requester's messages (a person asking for help is never refused because Redis is down;
  the request is stored in the database first), RSVPs, housing messages.
- fail closed (`FAIL_CLOSED`): the event is refused, as if the limit were reached, where a
  limit guards against guessing or bulk reading, or where refusing costs nobody anything:
  Telegram link codes (guessing), files of a case (bulk reading by a stolen account), the
  "you are already on the list" mail (mail flooding), the anonymous "I'm coming" count
  (counted once an hour at most; not counting is harmless).
- sign-in, sign-up and password reset use allauth's own limits on the same cache:
  `CacheDownMiddleware` answers a request that failed on the cache with 503 and
  Retry-After, never a 500 and never a sign-in without its limits.

Each failure is logged with the bucket and the error's type only: no key, no address.

Events that cost nothing (`in_process=True`: the public API's answers served from the page
cache) are counted in this process only, nothing written to the cache: see `_count_here`.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

MAX_ADDRESS_WINDOW = 3600
# Buckets refused while the cache is down (see above); `for_address` buckets are "addr.*".
FAIL_CLOSED = frozenset({"telegram-link", "aid-attachment", "rsvp-already", "addr.events-count"})
# What a 503 asks the client to wait, in seconds: Redis restarts within this in our setups.
RETRY_AFTER = 30


def _cache_key(bucket: str, key: str, window: int, now: float) -> str:
    number = int(now // window)
    digest = salted_hmac(f"krov.ratelimit.{bucket}", f"{number}:{key}", algorithm="sha256")
    return f"rl:{bucket}:{digest.hexdigest()[:40]}"


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    LIMITED = "limited"  # `limit` events fell in this window
    UNAVAILABLE = "unavailable"  # the cache failed and the bucket fails closed


def verdict(
    bucket: str,
    key: str,
    *,
    limit: int,
    window: int,
    now: float | None = None,
    in_process: bool = False,
) -> Verdict:
    """`hit`, telling a refusal for the limit from one because the cache is down, so that
    the person refused can be told which it is (wait an hour, or a minute)."""
    if in_process:
        return Verdict.ALLOWED if _count_here(bucket, key, limit, window, now) else Verdict.LIMITED
    try:
        allowed = _count(bucket, key, limit=limit, window=window, now=now)
    except Exception as error:  # noqa: BLE001 - any cache backend's failure
        fails_open = bucket not in FAIL_CLOSED
        log.warning(
            "rate limit cache unavailable (%s); bucket %s fails %s",
            type(error).__name__,
            bucket,
            "open" if fails_open else "closed",
        )
        return Verdict.ALLOWED if fails_open else Verdict.UNAVAILABLE
    return Verdict.ALLOWED if allowed else Verdict.LIMITED


def hit(
    bucket: str,
    key: str,
    *,
    limit: int,
    window: int,
    now: float | None = None,
    in_process: bool = False,
) -> bool:
    """Count one event for `key` in `bucket`; False once `limit` events fell in this window.

    If the cache fails, True for a bucket that fails open, False for one in FAIL_CLOSED.
    `in_process`: an event that costs nothing, counted in this process only (`_count_here`).
    """
    return (
        verdict(bucket, key, limit=limit, window=window, now=now, in_process=in_process)
        is Verdict.ALLOWED
    )


def _count(bucket: str, key: str, *, limit: int, window: int, now: float | None) -> bool:
    now = time.time() if now is None else now
    cache_key = _cache_key(bucket, key, window, now)
    # The entry lives until its window ends (plus a second of slack), never longer.
    timeout = max(1, int(window - now % window) + 1)
    if cache.add(cache_key, 1, timeout=timeout):
        counted = 1
    else:
        try:
            counted = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: a fresh window
            cache.add(cache_key, 1, timeout=timeout)
            counted = 1
    if bucket in COUNTED_HERE_TOO:
        here_key = _here_key(bucket, key, window, now)
        return _here.seen_shared(here_key, counted, now + timeout, now) <= limit
    return counted <= limit


# --- events counted in this process only -------------------------------------------------
#
# Why: the public API's per-client limit was one cache write per request, even for an
# answer the page cache gave (0.51-0.55x the bare hello against 0.80-0.88x for cached pages,
# docs/performance.md). Such an answer costs what a cached page costs, and pages have no
# per-client limit at all: the limit is there for what costs, an uncached query that reaches
# the database (a new filter, a new page number, a request with a cookie). So:
# - a request that misses the page cache is counted in the shared cache as before: exact
#   across workers and app servers, and any number of distinct uncached queries is refused
#   past the limit however it is spread;
# - a request the page cache answers is counted here, in this process's memory, on top of
#   the shared count this process last saw for the client: nothing about the client is
#   written anywhere on a hit, and a client hammering cached answers is still refused by
#   each worker after `limit` (so at most workers x limit cached answers a window, each
#   costing about a static page);
# - a miss adds this process's count of cached answers to the shared one before deciding,
#   so cached answers are never a way around the limit on uncached ones.
# The keys are a keyed BLAKE2b of the bucket, the window's number and the client's network,
# under a random key that exists only in this process's memory (never the address; cheaper
# than the shared cache's HMAC, which a hit need not compute), and are dropped within
# seconds of their window's end; at most _HERE_MAX are held, the oldest dropped first.

# The buckets whose callers count some events in process (`in_process=True`).
COUNTED_HERE_TOO = frozenset({"addr.api"})
_HERE_MAX = 10_000
_HERE_SECRET = os.urandom(32)
_HERE_SWEEP_SECONDS = 5


@dataclass
class _Seen:
    shared: int  # the shared count this process last saw (its own misses included)
    here: int  # events counted in this process only
    expires: float


class _HereCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[bytes, _Seen] = {}
        self._next_sweep = 0.0

    def _entry(self, here_key: bytes, expires: float) -> _Seen:
        seen = self._seen.get(here_key)
        if seen is None:
            if len(self._seen) >= _HERE_MAX:
                del self._seen[next(iter(self._seen))]  # the oldest
            seen = self._seen[here_key] = _Seen(0, 0, expires)
        return seen

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + _HERE_SWEEP_SECONDS
            for here_key in [k for k, seen in self._seen.items() if seen.expires <= now]:
                del self._seen[here_key]

    def count_here(self, here_key: bytes, expires: float, now: float) -> int:
        """One more event here; the client's total as this process knows it."""
        with self._lock:
            self._sweep(now)
            seen = self._entry(here_key, expires)
            seen.here += 1
            return seen.shared + seen.here

    def seen_shared(self, here_key: bytes, counted: int, expires: float, now: float) -> int:
        """Remember the shared count; the client's total as this process knows it."""
        with self._lock:
            self._sweep(now)
            seen = self._entry(here_key, expires)
            seen.shared = counted
            return counted + seen.here

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._next_sweep = 0.0


_here = _HereCounts()


def _count_here(bucket: str, key: str, limit: int, window: int, now: float | None) -> bool:
    if bucket not in COUNTED_HERE_TOO:
        raise ValueError(f"{bucket} is not in COUNTED_HERE_TOO")
    now = time.time() if now is None else now
    expires = (now // window + 1) * window + 1
    return _here.count_here(_here_key(bucket, key, window, now), expires, now) <= limit


def _here_key(bucket: str, key: str, window: int, now: float) -> bytes:
    text = f"{bucket}\n{int(now // window)}\n{key}"
    return hashlib.blake2b(text.encode(), key=_HERE_SECRET, digest_size=16).digest()


def forget_counted_here() -> None:
    """Drop what this process counted alone (tests: each starts with an empty cache)."""
    _here.clear()


def for_address(
    bucket: str,
    address: str,
    *,
    limit: int,
    window: int = 3600,
    now: float | None = None,
    in_process: bool = False,
) -> bool:
    """`hit` for a key derived from a client address: the window is at most an hour."""
    if window > MAX_ADDRESS_WINDOW:
        raise ValueError("a key derived from a client address may live an hour at most")
    return hit(
        f"addr.{bucket}",
        client_network(address),
        limit=limit,
        window=window,
        now=now,
        in_process=in_process,
    )


def client_network(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one household or phone
    gets a whole /64, and could otherwise pick a fresh address for every request)."""
    if address and ":" not in address and address == address.strip():
        # Not IPv6: a valid IPv4 address is its own canonical form (ipaddress refuses leading
        # zeros), anything else counts as itself; parsing would give the same (and costs a
        # third of a cached API answer's rate limiting).
        return address
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def is_cache_failure(error: BaseException) -> bool:
    """An error of the cache's client: redis-py's (refused, timed out, reset...). The disk
    cache used without Redis turns its own timeouts into misses and raises nothing."""
    return type(error).__module__.split(".")[0] == "redis"


class CacheDownMiddleware:
    """A request that failed because the cache did not answer gets 503 with Retry-After,
    not a 500: sign-in's rate limits (allauth's, on the same cache) then fail closed, and a
    client or load balancer knows to come back. Other errors pass on untouched."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_cache_failure(exception):
            return None
        log.warning("cache unavailable (%s); answered 503", type(exception).__name__)
        response = HttpResponse(
            _("Krov cannot check its limits right now; please try again in a minute."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response
