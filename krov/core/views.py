"""Core's pages: home, health, site search, robots.txt and sitemap.xml, error pages."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from krov.core import health, links, sitemap
from krov.core import home as home_sections
from krov.core import search as site_search
from krov.core.access import authenticated, public, token
from krov.core.pagecache import cache_public_page

MAX_QUERY = 200


@public
@require_safe
@cache_public_page(lambda: ["home", *home_sections.section_namespaces])
def home(request: HttpRequest) -> HttpResponse:
    """What the site is, what is happening (each app's newest: krov.core.home), and the
    way to ask for help."""
    return render(request, "core/home.html", {"sections": home_sections.sections()})


@public
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health.run_checks()
    failing = [name for name, item in report.items() if item["status"] == "error"]
    body: dict[str, object] = {"status": "ok" if healthy else "error", "checks": report}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if healthy else 503)


# --- site-wide: search, robots.txt and sitemap.xml -----------------------------------------


@public
@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """Every app's search section (krov.core.search) on one page."""
    query = request.GET.get("q", "")
    status = 200
    if len(query) > MAX_QUERY:
        query, status = query[:MAX_QUERY], 400
        messages.error(request, _("The search was too long; it was shortened."))
    context = {"query": query, "sections": site_search.search(query)}
    return render(request, "core/search.html", context, status=status)


@public
@require_safe
def favicon_ico(request: HttpRequest) -> HttpResponseBase:
    """Browsers and feed readers ask for /favicon.ico whatever the page links: the static
    file (pages link the SVG one)."""
    from django.templatetags.static import static

    response = redirect(static("krov/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


@public
@require_safe
@cache_public_page("site")
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /dev/",
        "Disallow: /telegram/",
    ]
    for code, _name in settings.LANGUAGES:
        lines += [
            f"Disallow: /{code}/aid/",
            f"Disallow: /{code}/help/",
            f"Disallow: /{code}/accounts/",
        ]
    lines.append(f"Sitemap: {links.absolute('/sitemap.xml')}")  # never the Host header
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@public
@require_safe
@cache_public_page(sitemap.namespaces)
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    """Every app's public pages (krov.core.sitemap) under the site's address (KROV_SITE_URL,
    as the pages' canonical links: never the request's Host header)."""
    base = links.site()
    body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    body += [
        f"<url><loc>{escape(base + path)}</loc><lastmod>{changed.isoformat()}</lastmod></url>"
        for path, changed in sitemap.pages()
    ]
    body.append("</urlset>")
    return HttpResponse("\n".join(body), content_type="application/xml; charset=utf-8")


# --- error pages ----------------------------------------------------------------------------


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


# --- operations: readiness and metrics ------------------------------------------------------


@public
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness (krov.core.readiness): 503 naming the failing checks while this server
    cannot serve; /healthz stays the liveness probe."""
    from krov.core import readiness

    ready, report = readiness.run_checks()
    failing = [name for name, item in report.items() if item["status"] != "ok"]
    body: dict[str, object] = {"status": "ok" if ready else "error", "checks": report}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if ready else 503)


@token("Prometheus (KROV_METRICS_TOKEN)")
@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Counts and durations for Prometheus (krov.core.metrics), behind KROV_METRICS_TOKEN:
    404 when none is configured, 401 for a missing or wrong one."""
    import hmac

    from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

    from krov.core import metrics as krov_metrics

    expected = settings.KROV_METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if not (
        scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    ):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(krov_metrics.render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# --- undo --------------------------------------------------------------------------------


@authenticated
@require_POST
def undo(request: HttpRequest) -> HttpResponse:
    """The Undo button beside a destructive action's message (krov.core.undo)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    from krov.core import undo as undoing

    try:
        messages.success(request, undoing.undo(request, request.POST.get("token", "")))
    except undoing.UndoError as error:
        messages.error(request, str(error))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
