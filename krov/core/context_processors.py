from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.http import HttpRequest
from django.urls import translate_url


def krov(request: HttpRequest) -> dict:
    """Links to the current page in every interface language, for the switcher and hreflang."""
    path = request.path
    alternates = []
    for code, name in settings.LANGUAGES:
        alternates.append(
            {
                "code": code,
                "name": name,
                "local_name": LANG_INFO[code]["name_local"],
                "url": translate_url(path, code),
            }
        )
    return {"language_alternates": alternates, "site_name": settings.MFA_TOTP_ISSUER}
