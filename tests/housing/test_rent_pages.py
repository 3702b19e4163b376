"""The rents pages, the SVG charts, the fair-rent form, the API and the synthetic demo."""

from __future__ import annotations

import random
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from krov.housing import demo, index, synthetic
from krov.housing.models import District, Listing, RentIndexCell, RentObservation
from krov.housing.parsing import add_months
from tests.helpers import soup
from tests.housing.conftest import add_observations

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_years():
    """Vračar with 8 rents a month, Sopot with 3 (always too few), 2023–2024."""
    month = date(2023, 1, 1)
    spread = [-30, -20, -10, 0, 0, 10, 20, 30]  # median: the level itself
    while month <= date(2024, 12, 1):
        level = 500 if month.year == 2023 else 1000
        add_observations("vracar", [level + s for s in spread], month=month)
        add_observations("sopot", [300, 320, 340], month=month)
        month = add_months(month, 1)
    index.rebuild()


def test_the_rents_page_shows_the_table_with_changes_and_too_few_data(client, two_years):
    with translation.override("en"):
        response = client.get("/en/housing/rents/?base=2023-01")
    assert response.status_code == 200
    page = soup(response)
    rows = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in page.select("table.rents tbody tr")
    }
    vracar = rows["Vračar"]
    assert vracar[0] == str(
        RentIndexCell.objects.get(area="vracar", month=date(2024, 12, 1)).median_rent.quantize(
            Decimal(1)
        )
    )
    assert vracar[4] == "×2.0" and vracar[5] == "×2.0"
    assert rows["Sopot"][0] == "too few data" and rows["Sopot"][3] == "< 5"
    assert "300" not in " ".join(rows["Sopot"])  # never a number for a small cell
    assert "December 2024" in page.select_one("table.rents caption").get_text()
    images = [img["src"] for img in page.select("img")]
    assert "/en/housing/rents/city/chart.svg" in images
    assert "/en/housing/rents/vracar/chart.svg?size=small" in images


def test_a_bad_base_month_is_a_400_with_the_form(client, two_years):
    with translation.override("en"):
        response = client.get("/en/housing/rents/?base=February")
    assert response.status_code == 400
    assert "Write the month as 2022-02." in response.content.decode()


def test_the_district_page_has_a_chart_with_a_description_and_the_data_table(client, two_years):
    with translation.override("en"):
        response = client.get("/en/housing/rents/vracar/")
    page = soup(response)
    image = page.select_one("figure.chart img")
    assert image["alt"].startswith("Median monthly rent in Vračar from January 2023")
    assert len(page.select("table.rents tbody tr")) == 24
    sopot = soup(client.get("/en/housing/rents/sopot/"))
    assert {
        td.get_text(strip=True) for td in sopot.select("table.rents tbody tr td:nth-of-type(1)")
    } == {"too few data"}
    assert client.get("/en/housing/rents/atlantis/").status_code == 404


def test_the_chart_is_self_contained_svg_without_script(client, two_years):
    response = client.get("/en/housing/rents/vracar/chart.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert "<script" not in svg
    assert not re.search(r"(?:href|src)=\"https?://", svg)
    assert re.search(r"<svg[^>]+role=\"img\"[^>]+aria-labelledby=\"t d\"", svg)
    assert '<title id="t">Median rent in Vračar, EUR per month</title>' in svg
    assert '<desc id="d">Median monthly rent in Vračar' in svg
    policy = response["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src 'self'" in policy
    page_policy = client.get("/en/housing/rents/")["Content-Security-Policy"]
    assert "unsafe-inline" not in page_policy


def test_rents_page_queries_do_not_grow_with_observations(client, django_assert_max_num_queries):
    add_observations("vracar", [500] * 5, month=date(2024, 1, 1))
    index.rebuild()
    with django_assert_max_num_queries(10) as small:
        client.get("/en/housing/rents/")
    rng = random.Random(2)
    for district in District.objects.all():
        for month in (date(2023, m, 1) for m in range(1, 13)):
            add_observations(district, [rng.randint(300, 900) for _ in range(20)], month=month)
    index.rebuild()
    from django.core.cache import cache

    cache.clear()
    with django_assert_max_num_queries(len(small)):
        client.get("/en/housing/rents/")


def test_the_fair_rent_form_answers_with_a_verdict_or_a_clear_error(client):
    add_observations("zemun", [400 + 10 * i for i in range(12)])
    zemun = District.objects.get(slug="zemun").pk
    with translation.override("en"):
        response = client.get(
            f"/en/housing/rents/check/?district={zemun}&size_m2=50&rent=600&currency=EUR"
        )
        assert "Higher than 100% of 12 comparable flats in Zemun" in response.content.decode()
        response = client.get(
            f"/en/housing/rents/check/?district={zemun}&size_m2=0&rent=-5&currency=EUR"
        )
    assert response.status_code == 400
    assert response.content.decode().count('class="error"') == 2


# --- API ---------------------------------------------------------------------------------


def test_the_api_gives_the_overview_a_series_and_a_check(client, two_years):
    overview = client.get("/api/v1/rents?base=2023-01").json()
    assert overview["month"] == "2024-12-01" and overview["base_month"] == "2023-01-01"
    areas = {a["area"]: a for a in overview["areas"]}
    assert areas["vracar"]["change_since_base"] == 2.0
    sopot = areas["sopot"]["latest"]
    assert sopot["suppressed"] and sopot["count"] is None and sopot["median_rent"] is None
    series = client.get("/api/v1/rents/vracar?since=2024-01&until=2024-03").json()
    assert [m["month"] for m in series["months"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    city = client.get("/api/v1/rents/city").json()
    assert len(city["months"]) == 24


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # Months break the YYYY-MM pattern the OpenAPI document gives: 422, as any rule.
        ("/api/v1/rents?month=2024-13", 422),
        ("/api/v1/rents?base=2022/2", 422),
        ("/api/v1/rents?base=yesterday", 422),
        ("/api/v1/rents/atlantis", 404),
        ("/api/v1/rents/vracar?since=x", 422),
        ("/api/v1/rents/check?district=vracar&size_m2=0&rent=500", 422),
        ("/api/v1/rents/check?district=atlantis&size_m2=50&rent=500", 404),
    ],
)
def test_bad_api_requests_get_a_clear_4xx(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.json()["detail"]


def test_the_openapi_document_describes_the_rent_index(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/rents", "/api/v1/rents/{area}", "/api/v1/rents/check"} <= set(spec["paths"])
    cell = spec["components"]["schemas"]["RentCellOut"]["properties"]
    assert set(cell) == {
        "month", "suppressed", "count", "median_rent", "q1_rent", "q3_rent",
        "median_per_m2", "q1_per_m2", "q3_per_m2", "flagged",
    }  # fmt: skip


# --- synthetic demo ----------------------------------------------------------------------


def test_the_synthetic_data_doubles_after_early_2022_and_is_labelled(client):
    from krov.accounts import demo as accounts_demo

    accounts_demo.load()
    with translation.override("en"):
        lines = demo.load()
    assert "SYNTHETIC" in lines[0]
    assert Listing.objects.count() == 24
    assert len({listing.language for listing in Listing.objects.all()}) >= 4
    assert not RentObservation.objects.exclude(source__in=[synthetic.SOURCE, "listing"]).exists()
    city = {c.month: c for c in RentIndexCell.objects.filter(area="city")}
    before = city[date(2021, 6, 1)].median_m2
    after = city[date(2023, 6, 1)].median_m2
    assert Decimal("1.7") <= after / before <= Decimal("2.3")
    central = RentIndexCell.objects.get(area="vracar", month=date(2021, 6, 1)).median_m2
    outer = RentIndexCell.objects.get(area="rakovica", month=date(2021, 6, 1)).median_m2
    assert central > outer
    assert RentIndexCell.objects.filter(area="sopot", suppressed=True).exists()
    with translation.override("en"):
        page = client.get("/en/housing/rents/").content.decode()
    assert "synthetic dataset generated for demonstration" in page
    assert demo.load()[0].startswith("Housing: 0 SYNTHETIC rent observations")  # idempotent
    assert timezone.localdate() >= RentObservation.objects.latest("observed_on").observed_on


@settings(max_examples=40, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["district", "size_m2", "rent", "currency", "base", "page", "sort"]),
        st.text(max_size=15),
        max_size=5,
    )
)
def test_housing_forms_and_api_never_answer_5xx(params):
    from urllib.parse import urlencode

    client = Client()
    query = urlencode(params)
    for path in ("/en/housing/rents/check/", "/en/housing/rents/", "/en/housing/",
                 "/api/v1/rents/check", "/api/v1/rents"):  # fmt: skip
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500, (path, query)
