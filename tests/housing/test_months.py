"""A month inside a sentence takes the form the sentence needs: the rent index's caption
("за ноябрь 2026", nominative in lower case), its "since" column ("С ноября 2025",
"Од новембра 2025.", genitive) and the chart's "from … to …" ("с ноября … по июнь",
"з листопада … до червня", "од новембра … до јуна") in Russian, Ukrainian and Serbian in
both scripts; English keeps the plain name."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from krov.housing import charts, index, months
from krov.housing.models import RentIndexCell
from tests.helpers import soup
from tests.housing.conftest import add_observations

pytestmark = pytest.mark.django_db

NOVEMBER = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("language", "for_form", "since_form", "until_form"),
    [
        ("ru", "ноябрь 2026", "ноября 2026", "ноябрь 2026"),
        ("uk", "листопад 2026", "листопада 2026", "листопада 2026"),
        ("sr", "новембар 2026.", "новембра 2026.", "новембра 2026."),
        ("sr-latn", "novembar 2026.", "novembra 2026.", "novembra 2026."),
        ("en", "November 2026", "November 2026", "November 2026"),
        ("de", "November 2026", "November 2026", "November 2026"),
    ],
)
def test_a_month_in_a_sentence_has_the_form_its_language_needs(
    language, for_form, since_form, until_form
):
    with translation.override(language):
        assert months.month_for(NOVEMBER) == for_form
        assert months.month_since(NOVEMBER) == since_form
        assert months.month_until(NOVEMBER) == until_form


def test_every_serbian_month_has_its_genitive_in_both_scripts():
    cyrillic = [months.serbian_genitive(date(2026, m, 1)) for m in range(1, 13)]
    latin = [months.serbian_genitive(date(2026, m, 1), "sr-latn") for m in range(1, 13)]
    assert cyrillic[0] == "јануара" and cyrillic[7] == "августа" and cyrillic[11] == "децембра"
    assert latin == [
        "januara", "februara", "marta", "aprila", "maja", "juna",
        "jula", "avgusta", "septembra", "oktobra", "novembra", "decembra",
    ]  # fmt: skip
    with translation.override("sr"):
        assert months.month_since(date(2026, 5, 1)) == "маја 2026."
    with translation.override("sr-latn"):
        assert months.month_since(date(2026, 6, 1)) == "juna 2026."


@pytest.mark.parametrize(
    ("language", "span"),
    [
        ("ru", "с ноября 2025 (600 EUR) по июнь 2026 (700 EUR)"),
        ("uk", "з листопада 2025 (600 EUR) до червня 2026 (700 EUR)"),
        ("sr", "од новембра 2025. (600 EUR) до јуна 2026. (700 EUR)"),
        ("sr-latn", "od novembra 2025. (600 EUR) do juna 2026. (700 EUR)"),
        ("en", "from November 2025 (600 EUR) to June 2026 (700 EUR)"),
    ],
)
def test_the_chart_description_declines_the_months_of_its_span(language, span):
    cells = [
        RentIndexCell(month=date(2025, 11, 1), median_rent=600),
        RentIndexCell(month=date(2026, 6, 1), median_rent=700),
    ]
    with translation.override(language):
        assert span in charts.describe("Vračar", cells)


@pytest.fixture
def two_months():
    for month in (date(2025, 11, 1), NOVEMBER):
        add_observations("vracar", [600, 650, 700, 750, 800], month=month)
    index.rebuild()


@pytest.mark.parametrize(
    ("language", "caption_month", "since_header"),
    [
        ("ru", "ноябрь 2026", "С ноября 2025"),
        ("uk", "листопад 2026", "З листопада 2025"),
        ("sr", "новембар 2026.", "Од новембра 2025."),
        ("sr-latn", "novembar 2026.", "Od novembra 2025."),
        ("en", "November 2026", "Since November 2025"),
    ],
)
def test_the_rent_index_names_its_months_grammatically(
    client, two_months, language, caption_month, since_header
):
    response = client.get(f"/{language}/housing/rents/?base=2025-11")
    assert response.status_code == 200
    page = soup(response)
    caption = page.select_one("table.rents caption").get_text(" ", strip=True)
    assert caption.endswith(caption_month)  # lower case, after "for"/"за"
    assert "Ноябрь" not in caption and "Листопад" not in caption
    headers = [th.get_text(" ", strip=True) for th in page.select("table.rents thead th")]
    assert since_header in headers


@pytest.mark.parametrize(
    ("language", "caption"),
    [("ru", "Медианная аренда за ноябрь 2026"), ("uk", "Медіанна оренда за листопад 2026")],
)
def test_the_rent_index_caption_reads_for_the_month_in_russian_and_ukrainian(
    client, two_months, language, caption
):
    page = soup(client.get(f"/{language}/housing/rents/?base=2025-11"))
    assert page.select_one("table.rents caption").get_text(" ", strip=True) == caption
