"""krov.core.search and the site search page: each app registers its sections, the page
shows them in order and knows no app itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client

import krov.core
from krov.core import search as site_search
from tests.helpers import soup

TEMPLATE = "bulletins/partials/_search_results.html"


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for one test; the apps' own sections are back afterwards."""
    monkeypatch.setattr(site_search, "_sections", {})
    return site_search


def test_sections_come_by_position_not_by_registration_order(registry):
    registry.register("late", find=lambda q: [], template=TEMPLATE, limit=5, position=30)
    registry.register("early", find=lambda q: [], template=TEMPLATE, limit=5, position=10)
    assert [section.name for section in registry.sections()] == ["early", "late"]


def test_each_section_keeps_at_most_its_limit(registry):
    registry.register("numbers", find=lambda q: list(range(100)), template=TEMPLATE, limit=3)
    [found] = registry.search("anything")
    assert found.results == [0, 1, 2]


def test_a_blank_query_asks_no_section(registry):
    asked = []
    registry.register("spy", find=lambda q: asked.append(q) or [], template=TEMPLATE, limit=3)
    assert [found.results for found in registry.search("  \t ")] == [[]]
    assert asked == []


def test_registering_a_name_again_replaces_the_section(registry):
    registry.register("one", find=lambda q: [], template=TEMPLATE, limit=3)
    registry.register("one", find=lambda q: [], template=TEMPLATE, limit=7)
    assert [section.limit for section in registry.sections()] == [7]


def test_the_apps_register_guides_organisations_and_bulletins_in_that_order():
    assert [section.name for section in site_search.sections()] == [
        "guides",
        "organisations",
        "bulletins",
    ]


def test_core_imports_no_app():
    """Apps build on core; core reaches them only through what they register."""
    offending = []
    for path in Path(krov.core.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("krov.") and not name.startswith("krov.core"):
                    offending.append(f"{path.name}: {name}")
    assert not offending


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/en/search/", "/en/bulletins/search/"])
def test_the_page_answers_at_the_neutral_address_and_the_first_one(url):
    page = soup(Client().get(url, {"q": "nothing-matches-this"}))
    assert page.select_one("form[role=search] input[name=q]")["value"] == "nothing-matches-this"
    assert [h2.get_text() for h2 in page.select("main h2")] == ["Bulletins"]
    assert page.select_one("ul.results li.muted")


@pytest.mark.django_db
def test_the_page_shows_no_results_without_a_query():
    page = soup(Client().get("/en/search/"))
    assert not page.select("main h2")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/en/search/", "/en/bulletins/search/"])
def test_an_overlong_query_is_shortened_and_answered_400(url):
    response = Client().get(url, {"q": "x" * 300})
    assert response.status_code == 400
    page = soup(response)
    assert len(page.select_one("input[name=q]")["value"]) == 200
    assert "shortened" in page.select_one(".messages").get_text()


@pytest.mark.django_db
def test_the_page_queries_every_section_and_shows_each_with_its_template(registry):
    asked = []

    def find(query):
        asked.append(query)
        return []

    registry.register("only", find=find, template=TEMPLATE, limit=5)
    page = soup(Client().get("/en/search/", {"q": "mir"}))
    assert asked == ["mir"]
    assert [h2.get_text() for h2 in page.select("main h2")] == ["Bulletins"]


def test_the_bulletin_list_searches_through_the_neutral_address(client, db):
    form = soup(client.get("/en/bulletins/")).select_one("form[role=search]")
    assert form["action"] == "/en/search/"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("c\u0301evapi", "ćevapi"), ("C\u030cAC\u030cAK", "Čačak"), ("Ђ", "đ"), ("Дж", "dž")],
)
def test_decomposed_accents_and_either_script_normalise_alike(typed, stored):
    """A decomposed "ć" (c and a combining accent, as some keyboards and pasted text give
    it) finds the composed one; case and script never matter."""
    assert site_search.normalise(typed) == site_search.normalise(stored)
