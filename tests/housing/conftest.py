"""Shared housing fixtures: members, a moderator, listings and rent observations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from krov.housing import services
from krov.housing.models import District, RentObservation
from krov.housing.parsing import month_of


def listing_data(**changes) -> dict:
    data = {
        "kind": "flat",
        "title": "Svetao stan na Vračaru",
        "description": "Tih dvorište.",
        "language": "sr-latn",
        "district": District.objects.get(slug="vracar"),
        "location_hint": "Kalenić",
        "size_m2": Decimal("50"),
        "rooms": Decimal("2"),
        "rent": Decimal("700"),
        "currency": "EUR",
        "deposit": Decimal("700"),
        "furnished": True,
        "pets": False,
        "available_from": timezone.localdate() + timedelta(days=10),
        "languages": ["sr", "en"],
    }
    data.update(changes)
    return data


def add_observations(
    district: District | str,
    rents: list,
    *,
    month: date | None = None,
    size: Decimal | str = "50",
    status: str = RentObservation.Status.OK,
) -> list[RentObservation]:
    if isinstance(district, str):
        district = District.objects.get(slug=district)
    month = month_of(month or timezone.localdate())
    rows = []
    for rent in rents:
        rent_eur = Decimal(str(rent)).quantize(Decimal("0.01"))
        size_d = Decimal(str(size))
        rows.append(
            RentObservation(
                observed_on=month,
                month=month,
                district=district,
                size_m2=size_d,
                rent=rent_eur,
                currency="EUR",
                rate=1,
                rent_eur=rent_eur,
                per_m2=(rent_eur / size_d).quantize(Decimal("0.01")),
                source="test",
                status=status,
            )
        )
    return RentObservation.objects.bulk_create(rows)


@pytest.fixture
def member(personas):
    return personas["member"].user


@pytest.fixture
def other_member(personas):
    from krov.accounts import roles
    from krov.accounts.services import create_account

    return create_account(
        email="neighbour@example.org",
        pseudonym="Neighbour",
        password=None,
        roles=[roles.MEMBER],
        email_verified=True,
    )


@pytest.fixture
def moderator(personas):
    return personas["organiser"].user


@pytest.fixture
def listing(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.post_listing(actor=member, data=listing_data())
