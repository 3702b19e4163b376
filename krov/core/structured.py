"""schema.org structured data (JSON-LD) shared by the apps' pages: addresses, the site as an
organisation, and the one safe way to put JSON inside a <script> element."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from krov.core import links


def postal_address(address: str, *, city: str = "") -> dict[str, str]:
    """A schema.org PostalAddress from what Krov stores: a street address (a free line, e.g.
    "Kraljice Natalije 11, Beograd") and, where known, the city. Without a city the last part
    after a comma is taken as the locality, else the community's city (KROV_CITY)."""
    street = address.strip()
    locality = city.strip()
    if not locality and "," in street:
        street, locality = (part.strip() for part in street.rsplit(",", 1))
    result = {"@type": "PostalAddress"}
    if street:
        result["streetAddress"] = street
    result["addressLocality"] = locality or settings.KROV_CITY
    result["addressCountry"] = settings.KROV_COUNTRY
    return result


def site_organisation() -> dict[str, str]:
    return {"@type": "Organization", "name": settings.MFA_TOTP_ISSUER, "url": links.site() + "/"}


def script_json(data: dict[str, Any]) -> str:
    """JSON for <script type="application/ld+json">: "<" must never close the element."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
