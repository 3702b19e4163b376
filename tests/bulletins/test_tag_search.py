"""The newsroom's tags page searches tags in the database: any part of a tag's own name or
of one of its translated names finds it, typed in either Serbian script and any case (also
Cyrillic on SQLite, whose LIKE folds the case of ASCII letters only), because each name
and the query are compared in Krov's one normalised form (krov.core.search.searched
over krov.core.search.normalise). Each tag's names are stored so, one a line
(`Tag.search_text`), kept current by the services that write names and filled for tags
made before by a data migration; a match never runs from one name into the next. The page
is paged, and costs the same queries however many tags match."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from krov.bulletins import services, views
from krov.bulletins.models import Tag, TagTranslation
from krov.core.services import to_cyrillic, to_latin
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

TAGS = "/en/bulletins/editor/tags/"

_SERBIAN_CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџш"
_SERBIAN_LATIN = "abcčćdđefghijklmnoprsštuvzž"
# Letters of the other Cyrillic alphabets and Latin letters Serbian lacks, digits, the
# characters SQL's LIKE treats as special, and white space as people type (and paste) it.
_OTHER = "ыэъёіїєґйщьяюўqwxyß0123456789-.,'’%_\\  \t"
ALPHABET = (
    _SERBIAN_CYRILLIC + _SERBIAN_CYRILLIC.upper() + _SERBIAN_LATIN + _SERBIAN_LATIN.upper() + _OTHER
)
SCRIPTS = {"as typed": str, "Latin": to_latin, "Cyrillic": to_cyrillic}
CASES = {"as typed": str, "upper": str.upper, "lower": str.lower, "title": str.title}
OTHER_LANGUAGES = ["ru", "uk", "en", "de"]  # "rat" is Serbian: no Serbian translation


@pytest.fixture
def war(publish, editor):
    """A bulletin tagged "rat" (Serbian, Latin), the tag named in Russian and English."""
    post = publish()
    tag = Tag.objects.get(slug="rat")
    services.translate_tags(tag, actor=editor, names={"ru": "война", "en": "war"})
    return post


@pytest.fixture
def draft(editor):
    return services.create_post(actor=editor, language="sr-latn", title="Naslov", body="Tekst.")


def _found(client, query: str, **extra) -> list[str]:
    response = client.get(TAGS, {"q": query, **extra})
    assert response.status_code == 200
    return [card["id"].removeprefix("tag-") for card in soup(response).select("li.card.tag")]


# --- the property -----------------------------------------------------------------------------


# One draft and one tag for every example: each example names a tag (a new one, or the
# draft's tag translated) with the text it then searches a part of.
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_part_of_a_tags_name_or_translated_name_finds_it_in_either_script_and_any_case(
    war, draft, editor, data
):
    where = data.draw(st.sampled_from(["own name", "translated name"]), label="where")
    text = data.draw(st.text(ALPHABET, min_size=1, max_size=60), label="text")
    assume(text.strip())
    if where == "own name":
        services.set_tags(draft, actor=editor, names=[text])
        tag = draft.tags.first()
        assume(tag is not None)  # nothing a slug can be made of: no tag
        stored = tag.name
    else:
        tag = Tag.objects.get(slug="rat")
        language = data.draw(st.sampled_from(OTHER_LANGUAGES), label="language")
        services.translate_tags(tag, actor=editor, names={language: text})
        stored = tag.translations.get(language=language).name
    start = data.draw(st.integers(0, len(stored) - 1), label="start")
    part = stored[start : data.draw(st.integers(start + 1, len(stored)), label="end")]
    assume(part.strip())
    script = data.draw(st.sampled_from(sorted(SCRIPTS)), label="script")
    case = data.draw(st.sampled_from(sorted(CASES)), label="case")
    query = CASES[case](SCRIPTS[script](part))
    found = set(services.find_tags(query).values_list("pk", flat=True))
    assert tag.pk in found, (where, stored, query)


# --- the page ---------------------------------------------------------------------------------


def test_the_tags_page_finds_names_in_either_serbian_script_and_cyrillic_in_any_case(
    war, publish, editor
):
    publish("Мир", language="sr", tags=("Мир",))
    client = signed_in(editor)
    # A Latin name by its Cyrillic, a Cyrillic name by its Latin.
    assert _found(client, "РАТ") == ["rat"]
    assert _found(client, "mir") == ["mir"]
    assert _found(client, "МИР") == ["mir"]
    # Translated names, Cyrillic in any case (on SQLite too).
    assert _found(client, "ВОЙНА") == ["rat"]
    assert _found(client, "вОйНа") == ["rat"]
    assert _found(client, "WAR") == ["rat"]
    # A match never runs from one name into the next ("rat", "war", "voйna").
    assert _found(client, "rat war") == []
    assert _found(client, "t w") == []
    nothing = soup(client.get(TAGS, {"q": "t w"})).select_one("ul.cards.tags li.muted")
    assert nothing.get_text(strip=True) == "No tag has a name that contains this, in any language."


def test_the_tags_page_is_paged_in_the_same_queries_however_many_tags_match(
    draft, editor, monkeypatch
):
    monkeypatch.setattr(views, "TAGS_PER_PAGE", 5)
    client = signed_in(editor)
    services.set_tags(draft, actor=editor, names=[f"tema {index}" for index in range(3)])

    def count(**extra) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as captured:
            found = _found(client, "ТЕМА", **extra)
        return len(captured), found

    few, shown = count()
    assert sorted(shown) == ["tema-0", "tema-1", "tema-2"]
    for first in range(3, 30, 10):
        names = [f"Tema {index}" for index in range(first, first + 10)]
        services.set_tags(draft, actor=editor, names=names)
    services.set_tags(draft, actor=editor, names=["druga stvar"])
    many, shown = count()
    assert many == few
    assert len(shown) == 5
    # The next page keeps the search.
    page = soup(client.get(TAGS, {"q": "ТЕМА"}))
    following = page.select_one("nav.pager a")["href"]
    assert "q=%D0%A2%D0%95%D0%9C%D0%90" in following and "page=2" in following
    last, shown = count(page=7)
    assert last == few and len(shown) == 3  # 33 tags, five a page


# --- the column -------------------------------------------------------------------------------


def test_the_services_keep_each_tags_names_in_its_search_column_one_a_line(draft, editor):
    services.set_tags(draft, actor=editor, names=["Рат  и мир"])
    tag = Tag.objects.get()
    assert tag.search_text == "rat i mir"
    services.translate_tags(tag, actor=editor, names={"ru": "Война и мир", "en": "War"})
    assert Tag.objects.get().search_text == "rat i mir\nwar\nvoйna i mir"
    services.translate_tags(tag, actor=editor, names={"ru": "", "en": "War and peace"})
    assert Tag.objects.get().search_text == "rat i mir\nwar and peace"
    assert list(services.find_tags("war and")) == [tag]
    assert list(services.find_tags("война")) == []
    # Refused: nothing written.
    with pytest.raises(services.BulletinError):
        services.translate_tags(tag, actor=editor, names={"de": "Krieg", "uk": "В" * 61})
    assert Tag.objects.get().search_text == "rat i mir\nwar and peace"
    # A post tagged with a translated name keeps the tag, and its column.
    services.set_tags(draft, actor=editor, names=["War and peace", "Mir"])
    assert dict(Tag.objects.values_list("slug", "search_text")) == {
        tag.slug: "rat i mir\nwar and peace",
        "mir": "mir",
    }


def test_names_and_queries_go_through_the_sites_one_normalised_form(draft, editor, monkeypatch):
    """Not a copy of the rule: krov.core.search.normalise, the function the venues page,
    site search and the press watch use, makes both the column and the query."""
    from krov.core import search

    seen: list[str] = []
    real = search.normalise

    def spy(text: str) -> str:
        seen.append(text)
        return real(text.replace("Ž", "Z").replace("ž", "z"))  # a rule of its own

    monkeypatch.setattr(search, "normalise", spy)
    services.set_tags(draft, actor=editor, names=["Žurka"])
    tag = Tag.objects.get()
    services.translate_tags(tag, actor=editor, names={"en": "Party"})
    assert "Žurka" in seen and "Party" in seen
    assert list(services.find_tags("ZURKA")) == [tag]
    assert "ZURKA" in seen


def test_the_migration_fills_the_column_of_tags_made_before_it(editor):
    migration = importlib.import_module("krov.bulletins.migrations.0012_tag_search_text_existing")
    from django.apps import apps

    old = Tag.objects.create(slug="rat", name="Рат", language="sr")
    TagTranslation.objects.create(tag=old, language="ru", name="Война")
    TagTranslation.objects.create(tag=old, language="de", name="Krieg")
    bare = Tag.objects.create(slug="mir", name="Mir", language="sr-latn")
    assert set(Tag.objects.values_list("search_text", flat=True)) == {""}
    migration.fill(apps, None)
    assert dict(Tag.objects.values_list("slug", "search_text")) == {
        "rat": "rat\nkrieg\nvoйna",
        "mir": "mir",
    }
    assert list(services.find_tags("RAT")) == [old]
    assert list(services.find_tags("МИР")) == [bare]
