"""The rent index against a reference from Python's statistics module; small cells; the
city line; incremental recomputation; changes; the fair-rent percentile."""

from __future__ import annotations

import random
import statistics
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from krov.housing import index
from krov.housing.models import District, RentIndexCell, RentObservation
from tests.housing.conftest import add_observations

MARCH = date(2024, 3, 1)


def reference(values: list[float]) -> tuple[Decimal, Decimal, Decimal]:
    """What a statistician would compute by hand, rounded to cents."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    median = statistics.median(values)
    return tuple(Decimal(repr(v)).quantize(Decimal("0.01")) for v in (q1, median, q3))


class IndexAgainstReference(HypothesisTestCase):
    @settings(max_examples=25, deadline=None)
    @given(
        vracar=st.lists(st.integers(200, 3000), min_size=5, max_size=40),
        zemun=st.lists(st.integers(200, 3000), min_size=5, max_size=40),
        sizes=st.lists(st.integers(20, 120), min_size=40, max_size=40),
    )
    def test_median_and_quartiles_match_the_statistics_module(self, vracar, zemun, sizes):
        RentObservation.objects.all().delete()
        for slug, rents in (("vracar", vracar), ("zemun", zemun)):
            for rent, size in zip(rents, sizes, strict=False):
                add_observations(slug, [rent], month=MARCH, size=size)
        index.recompute([MARCH])
        for slug, rents in (("vracar", vracar), ("zemun", zemun)):
            cell = RentIndexCell.objects.get(area=slug, month=MARCH)
            assert cell.count == len(rents)
            assert (cell.q1_rent, cell.median_rent, cell.q3_rent) == reference(
                [float(r) for r in rents]
            )
            per_m2 = [
                float((Decimal(r) / Decimal(s)).quantize(Decimal("0.01")))
                for r, s in zip(rents, sizes, strict=False)
            ]
            assert (cell.q1_m2, cell.median_m2, cell.q3_m2) == reference(per_m2)
        city = RentIndexCell.objects.get(area="city", month=MARCH)
        assert city.count == len(vracar) + len(zemun)
        assert city.median_rent == reference([float(r) for r in vracar + zemun])[1]


pytestmark = pytest.mark.django_db


def test_a_cell_with_four_rents_has_no_figures_and_five_do():
    add_observations("vracar", [500, 600, 700, 800], month=MARCH)
    add_observations("zemun", [500, 600, 700, 800, 900], month=MARCH)
    index.recompute([MARCH])
    small = RentIndexCell.objects.get(area="vracar", month=MARCH)
    assert small.suppressed and small.count == 4
    assert [small.median_rent, small.q1_rent, small.q3_rent, small.median_m2] == [None] * 4
    enough = RentIndexCell.objects.get(area="zemun", month=MARCH)
    assert not enough.suppressed and enough.median_rent == Decimal("700.00")


def test_the_small_cell_threshold_is_configurable():
    add_observations("vracar", [500, 600, 700], month=MARCH)
    with override_settings(KROV_RENT_MIN_CELL=3):
        index.recompute([MARCH])
    assert RentIndexCell.objects.get(area="vracar", month=MARCH).median_rent == Decimal("600.00")


def test_flagged_and_excluded_rents_do_not_count():
    add_observations("vracar", [500, 600, 700, 800, 900], month=MARCH)
    add_observations("vracar", [90000], month=MARCH, status=RentObservation.Status.IMPLAUSIBLE)
    add_observations("vracar", [1], month=MARCH, status=RentObservation.Status.EXCLUDED)
    index.recompute([MARCH])
    cell = RentIndexCell.objects.get(area="vracar", month=MARCH)
    assert (cell.count, cell.flagged, cell.median_rent) == (5, 1, Decimal("700.00"))


def test_recompute_touches_only_the_months_it_is_given():
    april = date(2024, 4, 1)
    add_observations("vracar", [500] * 5, month=MARCH)
    add_observations("vracar", [800] * 5, month=april)
    index.rebuild()
    add_observations("vracar", [2000] * 10, month=april)
    index.recompute([MARCH])
    assert RentIndexCell.objects.get(area="vracar", month=april).median_rent == Decimal("800")
    index.recompute([april])
    assert RentIndexCell.objects.get(area="vracar", month=april).median_rent == Decimal("2000")
    assert RentIndexCell.objects.get(area="vracar", month=MARCH).median_rent == Decimal("500")


def test_rebuild_drops_months_that_no_longer_have_rents():
    add_observations("vracar", [500] * 5, month=MARCH)
    index.rebuild()
    RentObservation.objects.all().delete()
    index.rebuild()
    assert not RentIndexCell.objects.exists()


def test_changes_against_a_year_before_and_the_base_month():
    base, year_ago, now = date(2022, 2, 1), date(2023, 6, 1), date(2024, 6, 1)
    add_observations("vracar", [400] * 5, month=base)
    add_observations("vracar", [700] * 5, month=year_ago)
    add_observations("vracar", [800] * 5, month=now)
    add_observations("zemun", [800] * 4, month=now)  # too few: no change shown
    add_observations("zemun", [300] * 5, month=base)
    index.rebuild()
    rows = {row.area: row for row in index.overview(now, base)}
    assert rows["vracar"].change_base == Decimal("2.0")
    assert rows["vracar"].change_year == Decimal("1.1")
    assert rows["zemun"].change_base is None and rows["zemun"].latest.suppressed
    assert rows["city"].latest.median_rent == Decimal("800")


def test_overview_queries_do_not_grow_with_observations(django_assert_max_num_queries):
    rng = random.Random(5)
    for month in (date(2023, m, 1) for m in range(1, 13)):
        for district in District.objects.all()[:6]:
            add_observations(district, [rng.randint(300, 900) for _ in range(30)], month=month)
    index.rebuild()
    districts = District.objects.count()
    with django_assert_max_num_queries(2):
        rows = index.overview(date(2023, 12, 1), date(2023, 1, 1))
    assert len(rows) == districts + 1


# --- fair rent ---------------------------------------------------------------------------


def test_the_percentile_and_the_verdict_of_a_rent():
    today = date(2024, 5, 20)
    vracar = District.objects.get(slug="vracar")
    rents = [500 + 25 * i for i in range(20)]  # 500 .. 975
    add_observations(vracar, rents[:10], month=date(2024, 3, 1))
    add_observations(vracar, rents[10:], month=date(2024, 5, 1))
    add_observations(vracar, [5000] * 10, month=date(2024, 2, 1))  # older than three months
    add_observations(vracar, [5000] * 10, month=date(2024, 5, 1), size="120")  # not comparable
    verdict = index.fair_rent(vracar, Decimal("50"), Decimal("950"), today=today)
    # 18 of 20 rents are below 950 and one equals it: (18 + 0.5) / 20 = 92.5% → 92
    assert (verdict.count, verdict.percentile) == (20, 92)
    assert verdict.median == Decimal(round(statistics.median(rents)))
    with translation.override("en"):
        assert verdict.label == "Much higher than usual"
        assert verdict.sentence.startswith(
            "Higher than 92% of 20 comparable flats in Vračar in the last three months"
        )
    low = index.fair_rent(vracar, Decimal("50"), Decimal("400"), today=today)
    assert low.percentile == 0
    with translation.override("en"):
        assert low.label == "Lower than most"


def test_too_few_comparable_rents_give_no_percentile():
    vracar = District.objects.get(slug="vracar")
    add_observations(vracar, [600] * 9, month=date(2024, 5, 1))
    verdict = index.fair_rent(vracar, Decimal("50"), Decimal("700"), today=date(2024, 5, 2))
    assert verdict.percentile is None and not verdict.enough
    with translation.override("en"):
        assert "Too few comparable rents in Vračar" in verdict.sentence
        assert "(9; at least 10 are needed)" in verdict.sentence


@given(sample=st.lists(st.integers(1, 50), min_size=1, max_size=60), value=st.integers(0, 51))
def test_percentile_is_the_share_below_counting_ties_half(sample, value):
    below = sum(1 for v in sample if v < value)
    same = sample.count(value)
    got = index.percentile_of(float(value), [float(v) for v in sample])
    assert 0 <= got <= 100
    assert abs(got - 100 * (below + same / 2) / len(sample)) <= 0.5


def test_rsd_is_converted_with_the_configured_rate():
    assert index.to_eur(Decimal("117200"), "RSD") == (Decimal("1000.00"), Decimal("117.2"))
    with override_settings(KROV_HOUSING_RSD_PER_EUR=Decimal("100")):
        assert index.to_eur(Decimal("50000"), "RSD")[0] == Decimal("500.00")
    assert index.to_eur(Decimal("650"), "EUR") == (Decimal("650.00"), Decimal(1))


def test_rebuild_applies_changed_plausibility_bounds(settings):
    add_observations("vracar", [500, 600, 700, 800, 900], month=MARCH)  # 10–18 EUR/m²
    add_observations("vracar", [4000], month=MARCH)  # 80 EUR/m²: implausible at first
    RentObservation.objects.filter(rent_eur=4000).update(status=RentObservation.Status.IMPLAUSIBLE)
    add_observations("vracar", [100], month=MARCH, status=RentObservation.Status.EXCLUDED)
    settings.KROV_RENT_PER_M2_MAX = Decimal("100")
    settings.KROV_RENT_PER_M2_MIN = Decimal("11")
    index.rebuild()
    statuses = dict(RentObservation.objects.values_list("rent_eur", "status"))
    assert statuses[Decimal("4000.00")] == "ok"
    assert statuses[Decimal("500.00")] == "implausible"  # 10 EUR/m² is now below the bound
    assert statuses[Decimal("100.00")] == "excluded"  # a moderator's decision stays
    cell = RentIndexCell.objects.get(area="vracar", month=MARCH)
    assert (cell.count, cell.flagged) == (5, 1)
