from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from krov.core import health
from krov.core.access import public
from krov.core.pagecache import cache_public_page


@public
@require_safe
@cache_public_page("home")
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@public
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health.run_checks()
    failing = [name for name, item in report.items() if item["status"] != "ok"]
    body: dict[str, object] = {"status": "ok" if healthy else "error", "checks": report}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if healthy else 503)


def _error(request: HttpRequest, status: int, template: str) -> HttpResponse:
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 400, "400.html")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "403.html")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the failure may be in one of them.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
