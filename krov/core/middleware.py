from __future__ import annotations

import codecs

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(self), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("X-Permitted-Cross-Domain-Policies", "none")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Nothing a signed-in person sees is kept in the browser's cache on disk (desk
            # pages carry case ciphertext and the session's device key).
            response.setdefault("Cache-Control", "no-store")
        return response


class RequestCharsetMiddleware:
    """A body in a charset Python does not know (or one that is not text at all) gets a 400
    with a message, instead of a LookupError deep in form parsing. Known charsets other
    than UTF-8 keep working: Django decodes them, replacing what does not decode."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = request.content_params.get("charset") if request.content_params else None
        if charset:
            try:
                info = codecs.lookup(charset)
            except LookupError:
                info = None
            if info is None or not getattr(info, "_is_text_encoding", True):
                return HttpResponse(
                    _("This form was sent in a character set Krov cannot read; send it as UTF-8."),
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
