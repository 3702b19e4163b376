"""The rent index's writing and, on PostgreSQL, its walks shared between parallel workers
(the function housing_rent_cells of migration 0008): a full rebuild shares its months under
a Parallel Append, a recompute of a few months runs in one process, and a recompute of many
months (shared too) equals the statistics module."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import connection
from django.test import override_settings

from krov.housing import index
from krov.housing.models import District, RentIndexCell, RentObservation
from krov.housing.parsing import add_months
from tests.housing.conftest import add_observations
from tests.housing.test_index_reference import reference_cells, stored_cells

pytestmark = pytest.mark.django_db

FIRST = date(2023, 1, 1)


def _plan(months: list[date] | None) -> str:
    parts = index._PARTS if months is None or len(months) >= index._PARALLEL_MONTHS else 1
    params = {"min_cell": 5, "months": months}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + index._pg_sql(months, parts), params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_written_fields_are_every_field_of_a_cell_but_its_key():
    fields = {f.attname for f in RentIndexCell._meta.concrete_fields if not f.primary_key}
    assert sorted(index._CELL_FIELDS) == sorted(fields)


def test_a_rebuild_shares_its_months_between_parallel_workers():
    if connection.vendor != "postgresql":
        pytest.skip("the function and parallel workers are PostgreSQL's")
    plan = _plan(None)
    assert "Parallel Append" in plan
    assert plan.count("Function Scan on housing_rent_cells") == index._PARTS


def test_a_recompute_of_a_few_months_walks_in_one_process():
    if connection.vendor != "postgresql":
        pytest.skip("the function and parallel workers are PostgreSQL's")
    plan = _plan([FIRST])
    assert "Gather" not in plan
    assert plan.count("Function Scan on housing_rent_cells") == 1


def test_a_recompute_of_many_months_equals_the_statistics_module():
    rng = random.Random(1807)  # noqa: S311 - reproducible test data
    months = [add_months(FIRST, i) for i in range(index._PARALLEL_MONTHS + 1)]
    districts = list(District.objects.all()[:3])
    for month in months:
        for district in districts:
            # Cells of 0 to 40 rents: some below the threshold, some of one rent.
            rents = [
                rng.choice([500, 501, rng.randint(150, 3000)]) for _ in range(rng.randint(0, 40))
            ]
            add_observations(district, rents, month=month, size=str(rng.randint(20, 90)))
    with override_settings(KROV_RENT_MIN_CELL=1):
        index.rebuild()
        assert stored_cells() == reference_cells()
        for month in months[::2]:
            RentObservation.objects.filter(month=month, district=districts[0]).update(
                status=RentObservation.Status.EXCLUDED
            )
        index.recompute(months)
        assert stored_cells() == reference_cells()


def test_reflag_counts_the_rents_it_flags_and_clears(settings):
    add_observations("vracar", [500, 900], month=FIRST)  # 10 and 18 EUR/m²
    add_observations("vracar", [4000], month=FIRST, status=RentObservation.Status.IMPLAUSIBLE)
    settings.KROV_RENT_PER_M2_MIN = 11
    settings.KROV_RENT_PER_M2_MAX = 100
    assert index.reflag() == 2  # 500 flagged, 4000 (80 EUR/m²) cleared
    assert index.reflag() == 0
    statuses = dict(RentObservation.objects.values_list("rent_eur", "status"))
    assert [statuses[r] for r in sorted(statuses)] == ["implausible", "ok", "ok"]


def test_a_month_of_excluded_rents_only_counts_as_observed_and_has_no_cell():
    add_observations("vracar", [500] * 5, month=FIRST)
    add_observations(
        "vracar", [600] * 5, month=add_months(FIRST, 1), status=RentObservation.Status.EXCLUDED
    )
    assert index.rebuild() == 2
    assert set(RentIndexCell.objects.values_list("month", flat=True)) == {FIRST}
