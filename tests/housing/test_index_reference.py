"""The whole rent index (rebuild, then a recompute of one month) against a pure-`statistics`
reference on random data, on whichever database the suite runs: quartiles and medians to the
cent (half-cent ties included), counts, flagged and excluded rents, small cells, the city."""

from __future__ import annotations

import random
import statistics
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from krov.housing import index
from krov.housing.models import District, RentIndexCell, RentObservation

CENT = Decimal("0.01")
MONTHS = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
SLUGS = ["vracar", "zemun", "palilula"]
OK = RentObservation.Status.OK
IMPLAUSIBLE = RentObservation.Status.IMPLAUSIBLE
EXCLUDED = RentObservation.Status.EXCLUDED


def reference_quartiles(values: list[float]) -> tuple[Decimal, Decimal, Decimal]:
    """The index's definition, straight from the statistics module: inclusive quartiles, the
    median their middle cut (equal to `statistics.median`), one value standing for all three."""
    if len(values) == 1:
        q1 = median = q3 = values[0]
    else:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        assert median == statistics.median(values)
    return tuple(Decimal(repr(v)).quantize(CENT) for v in (q1, median, q3))  # type: ignore[return-value]


FIGURES = ("q1_rent", "median_rent", "q3_rent", "q1_m2", "median_m2", "q3_m2")


def reference_cells() -> dict[tuple[str, date], tuple]:
    """Every cell as the pre-SQL code computed it: all observations read into Python."""
    slugs = dict(District.objects.values_list("id", "slug"))
    groups: dict[tuple[str, date], dict] = {}
    for month, district_id, status, rent, per_m2 in RentObservation.objects.values_list(
        "month", "district_id", "status", "rent_eur", "per_m2"
    ):
        if status == EXCLUDED:
            continue
        for area in (slugs[district_id], RentIndexCell.CITY):
            group = groups.setdefault((area, month), {"rents": [], "m2": [], "flagged": 0})
            if status == IMPLAUSIBLE:
                group["flagged"] += 1
            else:
                group["rents"].append(float(rent))
                group["m2"].append(float(per_m2))
    cells = {}
    for key, group in groups.items():
        count = len(group["rents"])
        suppressed = count < django_settings.KROV_RENT_MIN_CELL
        figures = (
            (None,) * 6
            if suppressed
            else reference_quartiles(group["rents"]) + reference_quartiles(group["m2"])
        )
        cells[key] = (count, group["flagged"], suppressed, *figures)
    return cells


def stored_cells() -> dict[tuple[str, date], tuple]:
    return {
        (cell.area, cell.month): (
            cell.count,
            cell.flagged,
            cell.suppressed,
            *(getattr(cell, name) for name in FIGURES),
        )
        for cell in RentIndexCell.objects.all()
    }


# Rents in cents with many ties and half-cent interpolations (the rounding edge), sizes with
# one decimal so that some rents per m² fall outside the plausible range and get flagged.
observation = st.tuples(
    st.sampled_from(MONTHS),
    st.sampled_from(SLUGS),
    st.one_of(st.integers(100, 400_000), st.sampled_from([50_000, 50_001, 50_002, 70_005])),
    st.integers(50, 3000),
    st.sampled_from([OK, OK, OK, OK, EXCLUDED, IMPLAUSIBLE]),
)


class IndexAgainstStatistics(HypothesisTestCase):
    @settings(max_examples=40, deadline=None)
    @given(rows=st.lists(observation, max_size=120), min_cell=st.integers(1, 6))
    @example(rows=[(MONTHS[0], "vracar", 50_001, 500, OK)], min_cell=1)
    @example(rows=[(MONTHS[0], "vracar", cents, 500, OK) for cents in (50_000, 50_001)], min_cell=1)
    def test_rebuild_and_recompute_equal_the_statistics_module(self, rows, min_cell):
        RentObservation.objects.all().delete()
        RentIndexCell.objects.all().delete()
        districts = dict(District.objects.values_list("slug", "id"))
        RentObservation.objects.bulk_create(
            RentObservation(
                observed_on=month,
                month=month,
                district_id=districts[slug],
                size_m2=Decimal(tenths) / 10,
                rent=Decimal(cents) / 100,
                currency="EUR",
                rate=1,
                rent_eur=Decimal(cents) / 100,
                per_m2=(Decimal(cents) / 100 / (Decimal(tenths) / 10)).quantize(CENT),
                source="test",
                status=status,
            )
            for month, slug, cents, tenths, status in rows
        )
        with override_settings(KROV_RENT_MIN_CELL=min_cell):
            index.rebuild()
            assert stored_cells() == reference_cells()
            RentObservation.objects.filter(month=MONTHS[1], status=OK).update(status=EXCLUDED)
            index.recompute([MONTHS[1]])
            assert stored_cells() == reference_cells()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**7).map(lambda cents: cents / 100),
            st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_quartiles_from_the_neighbours_alone_equal_statistics_quantiles(values):
    """The two neighbours of each cut are all the arithmetic needs: the same float operations
    as `statistics.quantiles`, so the same cents, half-cent ties included."""
    ordered = sorted(values)
    n = len(ordered)
    at = {rank: ordered[rank] for j in index.cuts(n) for rank in (j, j + 1) if rank < n}
    assert len(at) <= 6
    assert index.quartiles(n, at) == reference_quartiles(values)


@pytest.mark.parametrize("n", range(1, 130))
def test_each_walk_reaches_the_two_neighbours_of_its_cut_from_the_nearer_end(n):
    """What the databases do with `_walk`'s answer, on a list: skip `offset` values from the
    low end (or from the high end) and take the next two."""
    ordered = list(range(n))
    for j in set(index.cuts(n)):
        offset, down = index._walk(n, j)
        walked = (ordered[::-1] if down else ordered)[offset : offset + 2]
        assert sorted(walked) == ordered[j : j + 2]
        assert offset <= n // 2  # never more than half the cell


class OneLargeCellAgainstStatistics(HypothesisTestCase):
    """Cells of up to a few hundred rents, so that the walks skip far from both ends, in a
    district and in the city (two districts), with ties and half-cent interpolations."""

    @settings(max_examples=20, deadline=None)
    @given(
        rents=st.lists(
            st.one_of(st.integers(100, 400_000), st.sampled_from([50_000, 50_001, 70_005])),
            min_size=1,
            max_size=400,
        ),
        split=st.integers(0, 400),
    )
    def test_a_large_cell_and_its_city_equal_the_statistics_module(self, rents, split):
        RentObservation.objects.all().delete()
        RentIndexCell.objects.all().delete()
        districts = dict(District.objects.values_list("slug", "id"))
        RentObservation.objects.bulk_create(
            RentObservation(
                observed_on=MONTHS[0],
                month=MONTHS[0],
                district_id=districts[SLUGS[0] if i < split else SLUGS[1]],
                size_m2=Decimal(50),
                rent=Decimal(cents) / 100,
                currency="EUR",
                rate=1,
                rent_eur=Decimal(cents) / 100,
                per_m2=(Decimal(cents) / 100 / 50).quantize(CENT),
                source="test",
                status=OK,
            )
            for i, cents in enumerate(rents)
        )
        with override_settings(KROV_RENT_MIN_CELL=1):
            index.rebuild()
            assert stored_cells() == reference_cells()


@pytest.mark.django_db
def test_every_cell_size_from_1_to_48_equals_the_statistics_module():
    """Each size in its own month, so that every remainder of n by 4 reaches both walks of a
    figure (from the low end to the median, from the top to Q3) in a district and in the
    city, with ties; one rebuild."""
    districts = dict(District.objects.values_list("slug", "id"))
    rng = random.Random(18)  # noqa: S311 - reproducible test data
    rows = []
    for n in range(1, 49):
        month = date(2020 + n // 12, n % 12 + 1, 1)
        for i in range(n + n % 3):  # a few of another district's rents in the city
            cents = rng.choice([50_000, 50_001, 70_005, rng.randint(100, 400_000)])
            rows.append(
                RentObservation(
                    observed_on=month,
                    month=month,
                    district_id=districts[SLUGS[0] if i < n else SLUGS[1]],
                    size_m2=Decimal(rng.randint(200, 1200)) / 10,
                    rent=Decimal(cents) / 100,
                    currency="EUR",
                    rate=1,
                    rent_eur=Decimal(cents) / 100,
                    per_m2=Decimal(0),
                    source="test",
                    status=OK,
                )
            )
    for row in rows:  # the rebuild flags those outside the plausible range
        row.per_m2 = (row.rent_eur / row.size_m2).quantize(CENT)
    RentObservation.objects.bulk_create(rows)
    with override_settings(KROV_RENT_MIN_CELL=1):
        index.rebuild()
        assert stored_cells() == reference_cells()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("city", "figure", "name"),
    [
        (False, "rent_eur", "housing_obs_ok_rent"),
        (False, "per_m2", "housing_obs_ok_m2"),
        (True, "rent_eur", "housing_obs_ok_city_rent"),
        (True, "per_m2", "housing_obs_ok_city_m2"),
    ],
)
def test_the_walks_can_use_the_partial_indexes_of_the_counted_rents(city, figure, name):
    """The walks name the indexes' condition (status = 'ok') as the indexes do, so that the
    planner may use them; a parameter in its place would not let it (SQLite)."""
    walk = (
        f"SELECT {figure} FROM housing_rentobservation WHERE {index._OK_ROWS}"  # noqa: S608
        f" AND month = '2024-01-01'{'' if city else ' AND district_id = 1'}"
        f" ORDER BY {figure} LIMIT 2 OFFSET 3"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {walk}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {walk}")
        plan = " ".join(str(column) for row in cursor.fetchall() for column in row)
    # PostgreSQL's choice between the two on an empty table is its own; either is partial.
    assert (name if connection.vendor == "sqlite" else "housing_obs_ok_") in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan  # read in order, not sorted
