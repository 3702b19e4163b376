from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import gettext_lazy as _

from krov.core import links


def krov(request: HttpRequest) -> dict:
    """Links to the current page in every interface language, for the switcher and hreflang
    (absolute, from KROV_SITE_URL), the page's canonical address and the site's defaults for
    the description and link-preview tags (templates/partials/_page_meta.html)."""
    path = request.path
    site = links.site()
    alternates = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
        alternates.append(
            {
                "code": code,
                "name": name,
                "local_name": LANG_INFO[code]["name_local"],
                "url": url,
                "absolute_url": site + url,
            }
        )
    return {
        "language_alternates": alternates,
        "x_default_url": _x_default(path),
        # Called only where a page shows its messages; an anonymous visitor's session is
        # never touched (no cookie, no Vary: Cookie on cached pages).
        "undo_token": lambda: _undo_token(request),
        "site_name": settings.MFA_TOTP_ISSUER,
        "site_url": site,
        "canonical_url": canonical_url(request),
        "site_description": SITE_DESCRIPTION,
    }


def _undo_token(request: HttpRequest) -> str:
    from krov.core import undo

    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return ""
    return undo.pending(request)


def _x_default(path: str) -> str:
    """For search engines, the page's address without a language: it sends each reader on
    to the page in their own language (LocaleMiddleware). Empty on pages without one."""
    for code, _name in settings.LANGUAGES:
        if path.startswith(f"/{code}/"):
            return links.absolute(path[len(code) + 1 :])
    return ""


SITE_DESCRIPTION = _(
    "Krov: events, bulletins, guides, a directory of organisations and a fair-rent index for "
    "the anti-war diaspora and its neighbours."
)


def canonical_url(request: HttpRequest) -> str:
    """The page's one address for search engines: the configured site (never the Host
    header), the path, and of the query only a page number past the first."""
    url = links.absolute(request.path)
    page = request.GET.get("page", "")
    if page.isascii() and page.isdigit() and 1 < int(page) < 100_000:
        url += f"?page={int(page)}"
    return url
