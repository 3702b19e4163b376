"""What every /api/ answer gets: a query-length limit (414), a per-client rate limit (429
with Retry-After), CORS for GET, and ETag with 304 for unchanged answers."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag

from krov.core import pagecache, ratelimit
from krov.core.clientip import client_address

MAX_QUERY_STRING = 2048


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if request.method == "OPTIONS":
            return self._cors(HttpResponse(status=204), preflight=True)
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            return self._cors(JsonResponse({"detail": "The query string is too long."}, status=414))
        if self._has_nul(request):
            # PostgreSQL text cannot hold NUL: refuse it here rather than fail in a query.
            return self._cors(
                JsonResponse({"detail": "The request contains a NUL character."}, status=400)
            )
        response: HttpResponse
        if not self._allowed(request):
            response = JsonResponse({"detail": "Too many requests; please slow down."}, status=429)
            response["Retry-After"] = "60"
            return self._cors(response)
        key = self._cache_key(request)
        cached = cache.get(key) if key else None
        if cached is not None:
            response = HttpResponse(cached, content_type="application/json; charset=utf-8")
        else:
            response = self.get_response(request)
            if key and response.status_code == 200 and not response.streaming:
                cache.set(key, response.content, 60)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response["Cache-Control"] = "public, max-age=60"
            set_response_etag(response)
            conditional = get_conditional_response(
                request, etag=response.get("ETag"), response=response
            )
            if conditional is not None:
                response = conditional
        return self._cors(response)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        )

    def _cache_key(self, request: HttpRequest) -> str:
        """Answers are the same for everyone: cache them for a minute, keyed by the versions
        of the public-page namespaces, so any change to events or bulletins shows at once."""
        if request.method not in ("GET", "HEAD") or settings.DEBUG:
            return ""
        digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        versions = ".".join(
            str(pagecache.version(name)) for name in ("events", "bulletins", "directory", "housing")
        )
        return f"krov:api:{versions}:{digest}"

    def _allowed(self, request: HttpRequest) -> bool:
        return ratelimit.for_address(
            "api", client_address(request), limit=settings.KROV_API_PER_MINUTE, window=60
        )

    def _cors(self, response: HttpResponse, *, preflight: bool = False) -> HttpResponse:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        if preflight:
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "If-None-Match"
            response["Access-Control-Max-Age"] = "86400"
        return response
