"""The Telegram webhook, answered before the middleware that serves people.

Telegram's POST carries no cookie, no language and no CSRF token: it is authenticated by
its secret-token header (`views.webhook`), answered with JSON and never cached. Sessions,
languages, CSRF, sign-in, messages, htmx and the MFA check have nothing to do for it, yet
they were a third of the webhook's time. This middleware stands after the ones every answer
needs (metrics, Django's security headers, Krov's own headers) and hands the webhook's path
straight to its view; every other request goes on as before. Its JSON gets a fixed policy
that allows nothing, instead of the pages' Content-Security-Policy built for each answer."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import resolve, reverse

NOTHING_ALLOWED = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class WebhookMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._path = ""
        self._match = None
        self._func: Callable[[HttpRequest], HttpResponse] = get_response  # until resolved
        # As Django's handler does for every view: an exception (a body over Django's
        # limit, a Host not allowed, a database down) becomes its 4xx or 500 answer here, so
        # it still gets the headers below.
        self._answer = convert_exception_to_response(self._view)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._path:
            self._path = reverse("telegram:webhook")
            # What the URL resolver would give (the metrics label the view by it); the
            # webhook takes no arguments from its path, so one match serves every request.
            self._match = resolve(self._path)
            self._func = self._match.func
        if request.path_info != self._path:
            return self.get_response(request)
        request.resolver_match = self._match
        response = self._answer(request)
        # What XFrameOptionsMiddleware, skipped here, gives every other answer, and a policy
        # for a document that is never shown (stricter than the pages').
        response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.setdefault("Content-Security-Policy", NOTHING_ALLOWED)
        return response

    def _view(self, request: HttpRequest) -> HttpResponse:
        # CommonMiddleware, skipped here, refuses a Host not in ALLOWED_HOSTS (400): so
        # does the webhook, before its secret is even looked at.
        request.get_host()
        return self._func(request)
