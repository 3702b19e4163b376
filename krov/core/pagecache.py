"""Caching what anonymous visitors see, invalidated by namespace when content changes.

Public pages are what a bad phone connection in a war zone loads; they should cost about as
much as a bare response. A page is cached only when it cannot be personal: a GET without a
session or messages cookie, not an htmx partial, answered 200 without setting a cookie or
using a CSRF token. Apps call `invalidate(namespace)` from their services when what the
page shows changes (e.g. `invalidate("events")` on publishing an event).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

DEFAULT_TIMEOUT = 300
HEADER = "X-Krov-Cache"


def _version_key(namespace: str) -> str:
    return f"krov:pagever:{namespace}"


def version(namespace: str) -> int:
    current = cache.get(_version_key(namespace))
    if current is None:
        cache.add(_version_key(namespace), 1, None)
        current = cache.get(_version_key(namespace), 1)
    return int(current)


def invalidate(namespace: str) -> None:
    """Forget every cached page of `namespace` (all languages, all query strings), once the
    current transaction commits (at once outside one): invalidating earlier would let a
    visitor cache the old page again before the change is visible, and a rollback would
    have thrown the cache away for nothing."""
    transaction.on_commit(lambda: _bump(namespace))


def _bump(namespace: str) -> None:
    try:
        cache.incr(_version_key(namespace))
    except ValueError:
        cache.set(_version_key(namespace), 2, None)


def is_cacheable_request(request: HttpRequest) -> bool:
    return (
        not settings.DEBUG
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not getattr(request, "htmx", False)
    )


def _is_cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "no-store" not in response.get("Cache-Control", "")
    )


def cache_public_page(
    namespace: str | Callable[[], list[str]], timeout: int = DEFAULT_TIMEOUT
) -> Callable:
    """Cache the view's page until `namespace` changes; a page that shows several apps'
    content passes a function giving their namespaces, and changes to any of them count."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not is_cacheable_request(request):
                return view(request, *args, **kwargs)
            digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
            names = namespace() if callable(namespace) else [namespace]
            versions = "-".join(f"{name}.{version(name)}" for name in names)
            key = f"krov:page:{versions}:{get_language()}:{digest}"
            hit = cache.get(key)
            if hit is not None:
                content, content_type = hit
                response = HttpResponse(content, content_type=content_type)
                response[HEADER] = "hit"
                return response
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
            if _is_cacheable_response(request, response):
                cache.set(key, (response.content, response["Content-Type"]), timeout)
                response[HEADER] = "miss"
            return response

        return wrapper

    return decorator
