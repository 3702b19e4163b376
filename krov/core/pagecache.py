"""Caching what anonymous visitors see, invalidated by namespace when content changes.

Public pages are what a bad phone connection in a war zone loads; they should cost about as
much as a bare response. A page is cached only when it cannot be personal: a GET or HEAD
without a session or messages cookie, not an htmx request, answered 200 without setting a
cookie, using a CSRF token or asking not to be stored (`no-store`, `private`).

Two halves:
- a view says which namespaces its page shows with `@cache_public_page(namespace)`; a
  middleware that owns a whole URL space (the API) calls `declare(request, namespaces)`;
- `PageCacheMiddleware`, near the top of the middleware stack, stores the finished answer
  with every header the middleware below it added (Content-Security-Policy,
  X-Frame-Options, Permissions-Policy, Content-Language, Vary...) and answers the next such
  request from the cache before sessions, language, CSRF, authentication, URL resolution
  and the view run. The middleware above it (SecurityMiddleware: HTTPS redirect, HSTS,
  nosniff, Referrer-Policy; the API's rate limit and CORS) runs for hits as for misses.

An entry remembers the versions of its namespaces from before the page was rendered; apps
call `invalidate(namespace)` from their services when what a page shows changes (e.g.
`invalidate("events")` on publishing an event), which bumps the version after the commit, so
every entry of the namespace (all languages, hosts, query strings) is stale at once. Every
cached answer carries an ETag (of its body, unless the view set one), and a request whose
If-None-Match (or If-Modified-Since) matches gets a 304.

Two reads per hit, however many namespaces a page shows: besides its namespaces' versions,
an entry remembers the site-wide epoch, a counter every invalidation bumps after it bumped
the namespace's version. A hit reads the entry and the epoch; while the epoch is the one
the entry holds, nothing at all was invalidated since the page was rendered, so the page
is current without reading its versions (the home page shows three namespaces, the API
four: five reads became two on the embedded cache, where `get_many` is one read per key).
When the epoch moved, the entry's versions are compared as before, and an entry that is
still current is stored again under the new epoch. Exact because of two orders: an
invalidation bumps the namespace before the epoch, and a reader takes the epoch before the
versions; so an entry whose epoch is current was rendered after every bump before it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import parse_http_date_safe

log = logging.getLogger(__name__)
# Set on a request when the cache did not answer: the page is rendered and sent as if
# nothing were cached, never a 500 because a cache server is down.
_DOWN = "_krov_page_cache_down"


def _cache_failed(request: HttpRequest | None, error: Exception) -> None:
    log.warning("page cache unavailable (%s); serving uncached", type(error).__name__)
    if request is not None:
        setattr(request, _DOWN, True)


DEFAULT_TIMEOUT = 300
HEADER = "X-Krov-Cache"
# Headers that belong to one exchange, never replayed from a stored answer.
_NOT_STORED = frozenset({"set-cookie", "date", HEADER.lower()})


@dataclass
class _Declaration:
    namespaces: list[str]
    timeout: int
    versions: dict[str, int] | None = None
    epoch: int | None = None


# --- versions and invalidation ----------------------------------------------------------

# Bumped by every invalidation, after the namespace's own version (see the module).
_EPOCH_KEY = "krov:pageepoch"


def _version_key(namespace: str) -> str:
    return f"krov:pagever:{namespace}"


def _fresh_version() -> int:
    """A version no older entry can hold: a namespace whose counter the cache lost (evicted,
    flushed) starts again from the clock, not from a number an old entry was stored with."""
    return time.time_ns() // 1000


def _counter(key: str) -> int:
    current = cache.get(key)
    if current is None:
        cache.add(key, _fresh_version(), None)
        current = cache.get(key)
    # Unreadable (a busy cache): a version nothing is stored under, so nothing stale is served.
    return _fresh_version() if current is None else int(current)


def version(namespace: str) -> int:
    return _counter(_version_key(namespace))


def _snapshot(namespaces: Iterable[str]) -> tuple[int, dict[str, int]]:
    """The epoch, then the namespaces' versions: read in this order (see the module)."""
    epoch = _counter(_EPOCH_KEY)
    names = list(namespaces)
    found = cache.get_many([_version_key(name) for name in names])
    versions = {
        name: int(found[_version_key(name)]) if _version_key(name) in found else version(name)
        for name in names
    }
    return epoch, versions


def invalidate(namespace: str) -> None:
    """Forget every cached page of `namespace` (all languages, all query strings), once the
    current transaction commits (at once outside one): invalidating earlier would let a
    visitor cache the old page again before the change is visible, and a rollback would
    have thrown the cache away for nothing."""
    transaction.on_commit(lambda: _bump(namespace))


def _bump(namespace: str) -> None:
    # The namespace first, the epoch after: an entry holding the current epoch was rendered
    # after the namespace changed (see the module).
    for key in (_version_key(namespace), _EPOCH_KEY):
        try:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, _fresh_version(), None)
        except Exception as error:  # noqa: BLE001 - the change is committed; pages expire
            _cache_failed(None, error)


# --- which requests and answers ---------------------------------------------------------


def is_cacheable_request(request: HttpRequest) -> bool:
    return (
        not settings.DEBUG
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        # META, not request.headers: building the headers' mapping costs more than the hit.
        and "HTTP_HX_REQUEST" not in request.META
        and not getattr(request, _DOWN, False)
    )


def _is_cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "no-store" not in cache_control
        and "private" not in cache_control
        and "*" not in response.get("Vary", "")
    )


def _request_language(request: HttpRequest) -> str:
    """The language Django's LocaleMiddleware will pick for this request, worked out before
    it runs: the URL's prefix, else the language cookie or Accept-Language."""
    return translation.get_language_from_path(
        request.path_info
    ) or translation.get_language_from_request(request)


def _entry_key(request: HttpRequest) -> str:
    # get_host() also refuses a host not in ALLOWED_HOSTS, as the normal path would.
    identity = f"{request.get_host()}\n{_request_language(request)}\n{request.get_full_path()}"
    return "krov:page:" + hashlib.sha256(identity.encode()).hexdigest()[:40]


# --- declaring -----------------------------------------------------------------------------


def declare(
    request: HttpRequest, namespaces: Iterable[str], timeout: int = DEFAULT_TIMEOUT
) -> None:
    """Let `PageCacheMiddleware` keep this request's answer until one of `namespaces`
    changes (or `timeout` seconds pass), if the request and the answer allow it. The
    versions are read when rendering starts (here, or by the middleware for a declaration
    made above it), so a change made while the page renders leaves the entry stale."""
    if not is_cacheable_request(request):
        return
    declaration = _Declaration(list(namespaces), timeout)
    if getattr(request, "_krov_page_cache_started", False):
        try:
            declaration.epoch, declaration.versions = _snapshot(declaration.namespaces)
        except Exception as error:  # noqa: BLE001 - any cache backend's failure
            _cache_failed(request, error)
            return
    request._krov_page_cache = declaration  # type: ignore[attr-defined]


def cache_public_page(
    namespace: str | Callable[[], list[str]], timeout: int = DEFAULT_TIMEOUT
) -> Callable:
    """Cache the view's page until `namespace` changes; a page that shows several apps'
    content passes a function giving their namespaces, and changes to any of them count."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if is_cacheable_request(request):
                names = namespace() if callable(namespace) else [namespace]
                declare(request, names, timeout)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
            return response

        return wrapper

    return decorator


# --- answering ---------------------------------------------------------------------------


# The request headers that can turn an answer into a 304 (or a 412).
_CONDITIONAL = (
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
)


def is_conditional(request: HttpRequest) -> bool:
    return any(name in request.META for name in _CONDITIONAL)


def _conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not is_conditional(request):
        return response
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    not_modified = get_conditional_response(
        request, etag=response.get("ETag"), last_modified=last_modified, response=response
    )
    return not_modified if not_modified is not None else response


def _restore_headers(response: HttpResponse, headers: list[tuple[str, str]]) -> None:
    """Put back the stored headers. They were checked and encoded when the page was first
    answered, and checking them again (`response[name] = value`, a charset conversion
    each) was a fifth of a hit's time: Django 5.2's ResponseHeaders keeps them in `_store`
    as {lowercase name: (name, value)}, filled here directly when it is there."""
    store = getattr(response.headers, "_store", None)
    if isinstance(store, dict):
        store.update((name.lower(), (name, value)) for name, value in headers)
        return
    for name, value in headers:
        response[name] = value


def lookup(request: HttpRequest) -> HttpResponse | None:
    """The stored answer for this request if every namespace it shows is unchanged."""
    if not is_cacheable_request(request):
        return None
    key = _entry_key(request)
    entry = cache.get(key)
    if entry is None or len(entry) != 5:  # absent, or stored by an older Krov
        return None
    epoch, versions, headers, content, expires = entry
    current_epoch = cache.get(_EPOCH_KEY)
    if current_epoch != epoch:
        # Something was invalidated since: is it one of this page's namespaces?
        current = cache.get_many([_version_key(name) for name in versions])
        if any(current.get(_version_key(name)) != number for name, number in versions.items()):
            return None
        left = int(expires - time.time())
        if current_epoch is not None and left > 0:
            # Read before the versions, so safe to remember: the next hit is two reads again.
            try:
                cache.set(key, (current_epoch, versions, headers, content, expires), left)
            except Exception as error:  # noqa: BLE001 - the answer is still current
                _cache_failed(request, error)
    response = HttpResponse(content)
    _restore_headers(response, headers)
    response[HEADER] = "hit"
    return _conditional(request, response)


def store(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Keep `response` if the request declared it cacheable and it is; the answer to send."""
    declaration: _Declaration | None = getattr(request, "_krov_page_cache", None)
    if (
        declaration is None
        or declaration.versions is None
        or declaration.epoch is None
        # A HEAD answer may lack its body; a GET fills the entry that both then use.
        or request.method != "GET"
        or not _is_cacheable_response(request, response)
        # Rendered in another language than the key says: not worth a second guess.
        or translation.get_language() != _request_language(request)
    ):
        return response
    if not response.has_header("ETag"):
        set_response_etag(response)
    headers = [(k, v) for k, v in response.items() if k.lower() not in _NOT_STORED]
    entry: tuple[int, dict[str, int], list[tuple[str, str]], Any, float] = (
        declaration.epoch,
        declaration.versions,
        headers,
        response.content,
        time.time() + declaration.timeout,
    )
    try:
        cache.set(_entry_key(request), entry, declaration.timeout)
    except Exception as error:  # noqa: BLE001 - any cache backend's failure
        _cache_failed(request, error)
        return response
    response[HEADER] = "miss"
    return _conditional(request, response)


# Set on a request once `answer` looked it up, so that PageCacheMiddleware does not again.
_LOOKED_UP = "_krov_page_cache_looked_up"


def answer(request: HttpRequest) -> HttpResponse | None:
    """`lookup`, for a middleware above PageCacheMiddleware that must know before it goes
    on whether the answer is a cached one (the API's rate limit counts the two apart): a
    cache that fails is a miss, and PageCacheMiddleware does not look the request up again."""
    setattr(request, _LOOKED_UP, True)
    try:
        return lookup(request)
    except Exception as error:  # noqa: BLE001 - any cache backend's failure
        _cache_failed(request, error)
        return None


class PageCacheMiddleware:
    """Answers cached public pages early; stores them on the way out (see the module).

    Sits below SecurityMiddleware (and the API's middleware) and above everything that
    costs: sessions, locale, CSRF, authentication, the URL resolver and the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not getattr(request, _LOOKED_UP, False):
            hit = answer(request)
            if hit is not None:
                return hit
        declaration: _Declaration | None = getattr(request, "_krov_page_cache", None)
        if declaration is not None and declaration.versions is None:
            # Declared above this middleware (the API): read the versions before rendering.
            try:
                declaration.epoch, declaration.versions = _snapshot(declaration.namespaces)
            except Exception as error:  # noqa: BLE001 - any cache backend's failure
                _cache_failed(request, error)
                request._krov_page_cache = None  # type: ignore[attr-defined]
        request._krov_page_cache_started = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        return store(request, response)
