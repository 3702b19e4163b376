"""What every /api/ answer gets: a query-length limit (414), a per-client rate limit (429
with Retry-After), CORS for GET, and ETag with 304 for unchanged answers. Answers are the
same for everyone: the page cache (krov.core.pagecache) keeps them until the content they
come from changes. This middleware asks it first (`pagecache.answer`), because the rate
limit counts the two kinds of answer apart: one the page cache gives costs about what a
static page costs and is counted in this worker's memory, nothing about the client written
anywhere; one that reaches the database is counted in the shared cache, exactly across
workers and app servers (the reasons: krov.core.ratelimit, "events counted in this process
only", and docs/performance.md)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag

from krov.core import pagecache, ratelimit
from krov.core.clientip import client_address

MAX_QUERY_STRING = 2048
# What API answers show; a change to any of them refreshes every cached answer.
NAMESPACES = ("events", "bulletins", "directory", "housing")
CACHE_SECONDS = 60


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
        pagecache.declare(request, NAMESPACES, CACHE_SECONDS)
        cached = pagecache.answer(request)
        if not self._allowed(request, cached=cached is not None):
            response = JsonResponse({"detail": "Too many requests; please slow down."}, status=429)
            response["Retry-After"] = "60"
            return self._cors(response)
        response = cached if cached is not None else self.get_response(request)
        if request.method in ("GET", "HEAD") and response.status_code in (200, 304):
            response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        if cached is None and request.method in ("GET", "HEAD") and response.status_code == 200:
            # Cached answers already carry theirs (and were answered 304 when it matched).
            if not response.has_header("ETag"):
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
        query = request.META.get("QUERY_STRING", "")
        if "%00" not in query and "\x00" not in query:
            return False  # nothing decodes to NUL: no need to parse the query (most requests)
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        )

    def _allowed(self, request: HttpRequest, *, cached: bool) -> bool:
        return ratelimit.for_address(
            "api",
            client_address(request),
            limit=settings.KROV_API_PER_MINUTE,
            window=60,
            in_process=cached,
        )

    def _cors(self, response: HttpResponse, *, preflight: bool = False) -> HttpResponse:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        if preflight:
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "If-None-Match"
            response["Access-Control-Max-Age"] = "86400"
        return response
