"""The client's address, for rate limiting only: used transiently, never stored or logged."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with KROV_TRUSTED_PROXIES = n, the address the n-th proxy from the
    right saw. Entries further left are client-controlled and ignored, so a forged
    X-Forwarded-For cannot move a client into a fresh rate-limit bucket."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.KROV_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    if len(hops) < trusted:
        # Fewer hops than proxies: the request did not come through all of them.
        return remote
    return hops[-trusted]
