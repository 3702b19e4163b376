"""Two workers recomputing the same months at once (seen in deploy-check's worker logs as
a unique violation on PostgreSQL): the second waits for the first, both succeed."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from krov.housing import index
from krov.housing.models import District, RentIndexCell
from tests.housing.conftest import add_observations


@pytest.mark.django_db(transaction=True)
def test_two_workers_recomputing_the_same_month_at_once_both_succeed():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE already")
    # A transactional test runs on a flushed database: the seeded districts may be gone.
    district, _created = District.objects.get_or_create(
        slug="vracar", defaults={"name_latin": "Vračar", "name_cyrillic": "Врачар"}
    )
    month = date(2026, 11, 1)
    add_observations(district, [500 + i for i in range(20)], month=month)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            for _round in range(5):
                index.recompute([month])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert RentIndexCell.objects.filter(month=month, district=district).count() == 1
