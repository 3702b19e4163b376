"""krov.core.scripts through krov.core.services: Serbian Cyrillic ↔ Latin against a reference
corpus and round trips, which texts count as Serbian, and slugs by each language's rules."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import cyrtranslit
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from krov.core import scripts
from krov.core.services import in_page_script, slug_text, to_cyrillic, to_latin

CORPUS = Path(__file__).parent / "data" / "serbian_scripts.tsv"


def _corpus(direction: str) -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cyrillic, latin, how = line.split("\t")
        if how in (direction, "both"):
            rows.append((cyrillic, latin))
    return rows


@pytest.mark.parametrize(("cyrillic", "latin"), _corpus("to_latin"))
def test_cyrillic_becomes_the_corpus_latin(cyrillic, latin):
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize(("cyrillic", "latin"), _corpus("to_cyrillic"))
def test_latin_becomes_the_corpus_cyrillic(cyrillic, latin):
    assert to_cyrillic(latin) == cyrillic


def test_an_all_caps_word_keeps_both_letters_of_a_digraph_capital():
    assert to_latin("ЉУБАВ") == "LJUBAV"
    assert to_cyrillic("LJUBAV") == to_cyrillic("LjUBAV") == "ЉУБАВ"


def test_prefixes_before_j_and_z_stay_two_letters():
    assert to_cyrillic("nadživeti") == "надживети"
    assert to_cyrillic("podjednako") == "подједнако"
    assert to_cyrillic("injekcija") == "инјекција"
    assert to_cyrillic("konjunktura") == "конјунктура"
    assert to_cyrillic("konj") == "коњ"


def test_the_corpus_has_a_word_for_every_exception():
    latin = " ".join(latin for _cyrillic, latin in _corpus("both")).lower()
    assert [stem for stem in scripts.SPLIT_STEMS if stem.replace("|", "") not in latin] == []


# --- round trips ------------------------------------------------------------------------------

CYRILLIC_LETTERS = sorted(scripts.SERBIAN_CYRILLIC)
LATIN_LETTERS = ["lj", "nj", "dž", *sorted(scripts.SERBIAN_LATIN)]
# Latin pairs that read as one letter: as separate letters they cannot survive a round trip
# except in the listed words (the corpus tests those).
AMBIGUOUS = ("nj", "lj", "dž")


def _cased(word: str, how: str) -> str:
    return {"lower": word, "title": word[:1].upper() + word[1:], "upper": word.upper()}[how]


@st.composite
def cyrillic_words(draw):
    letters = draw(st.lists(st.sampled_from(CYRILLIC_LETTERS), min_size=1, max_size=12))
    word = "".join(letters)
    assume(not any(pair in word for pair in ("нј", "лј", "дж")))
    how = draw(st.sampled_from(["lower", "title", "upper"]))
    return _cased(word, how)


@st.composite
def latin_words(draw):
    letters = draw(st.lists(st.sampled_from(LATIN_LETTERS), min_size=2, max_size=12))
    word = "".join(letters)
    # Each digraph is one drawn letter: a drawn "n" then "j" is not Serbian spelling.
    for index in range(len(letters) - 1):
        assume(letters[index] + letters[index + 1] not in AMBIGUOUS)
        assume(not (letters[index] == "d" and letters[index + 1] == "ž"))
    how = draw(st.sampled_from(["lower", "title", "upper"]))
    return _cased(word, how)


def _no_exception_stem(latin: str) -> bool:
    return not any(stem.replace("|", "") in latin.lower() for stem in scripts.SPLIT_STEMS)


SEPARATORS = st.sampled_from([" ", ", ", ". ", " – ", "!\n", " 42 "])


@given(st.lists(st.tuples(cyrillic_words(), SEPARATORS), min_size=1, max_size=6))
def test_cyrillic_survives_a_trip_through_latin(parts):
    text = "".join(word + sep for word, sep in parts)
    assume(_no_exception_stem(to_latin(text)))
    assert to_cyrillic(to_latin(text)) == text


@given(st.lists(st.tuples(latin_words(), SEPARATORS), min_size=1, max_size=6))
def test_latin_survives_a_trip_through_cyrillic(parts):
    text = "".join(word + sep for word, sep in parts)
    assume(_no_exception_stem(text))
    assert to_latin(to_cyrillic(text)) == text


@given(st.lists(st.tuples(cyrillic_words(), SEPARATORS), min_size=1, max_size=6))
def test_lower_case_latin_agrees_with_cyrtranslit(parts):
    """An outside check: where cyrtranslit is right (no capitals), Krov says the same."""
    text = "".join(word.lower() + sep for word, sep in parts)
    assert to_latin(text) == cyrtranslit.to_latin(text, "sr")
    assume(_no_exception_stem(to_latin(text)))
    assert to_cyrillic(to_latin(text)) == cyrtranslit.to_cyrillic(to_latin(text), "sr")


@given(st.text(max_size=80))
def test_any_text_converts_without_error_and_keeps_what_is_not_serbian(text):
    latin, cyrillic = to_latin(text), to_cyrillic(text)
    assert isinstance(latin, str) and isinstance(cyrillic, str)
    # Neither direction touches letters outside Serbian's two alphabets.
    for char in text:
        if not char.isalpha():
            continue
        lower = char.lower()
        if lower in scripts.NON_SERBIAN_CYRILLIC:
            assert char in latin


def test_markup_and_addresses_survive_latin_to_cyrillic():
    text = '[sajt](https://example.org/x) <a href="/sr/">link</a> info@krov.example %(n)s'
    converted = to_cyrillic(text)
    for kept in ("https://example.org/x", '<a href="/sr/">', "info@krov.example", "%(n)s"):
        assert kept in converted
    assert "сајт" in converted and "линк" in converted


# --- which texts are Serbian, and how a page shows them -------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "serbian"),
    [
        ("Правна помоћ", None, True),
        ("Kraljice Natalije 11, Beograd", None, True),
        ("Как открыть счёт", None, False),  # ы/ё
        ("Объявление", None, False),  # ъ
        ("Київ і Львів", None, False),  # ї/і
        ("Ground floor, one step at the door", None, False),
        ("To je on, sat im je mit, a one su u stepi", None, True),  # Serbian words only
        ("Wi-Fi", None, False),
        ("диаспора", "ru", False),  # letters Serbian has, but stated Russian
        ("Pomoć", "uk", False),
        ("Ground floor", "sr-latn", True),  # a stated language wins
    ],
)
def test_which_texts_are_serbian(text, language, serbian):
    assert scripts.is_serbian(text, language) is serbian


@pytest.mark.parametrize(
    ("page", "text", "language", "shown"),
    [
        ("sr-latn", "рат", "sr", "rat"),
        ("sr", "protest", "sr-latn", "протест"),
        ("sr", "Kraljice Natalije 11, Beograd", None, "Краљице Наталије 11, Београд"),
        ("sr-latn", "Светлая двушка на Врачаре", "ru", "Светлая двушка на Врачаре"),
        ("sr-latn", "диаспора", "ru", "диаспора"),
        ("sr-latn", "Квартира біля Дунаю", None, "Квартира біля Дунаю"),
        ("sr", "Ground floor, no accessible toilet.", None, "Ground floor, no accessible toilet."),
        ("ru", "рат", "sr", "рат"),
        ("en", "protest", "sr-latn", "protest"),
    ],
)
def test_a_page_shows_serbian_in_its_script_and_nothing_else_converted(page, text, language, shown):
    assert in_page_script(text, language=language, page=page) == shown


# --- slugs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "slug"),
    [
        ("Как открыть счёт", "ru", "kak-otkryt-schet"),
        ("Как открыть счёт", None, "kak-otkryt-schet"),
        ("Щука, подъезд, Юля, мышь, ЦЕНТР, йод", "ru", "shchuka-podezd-yulya-mysh-tsentr-yod"),
        ("Безвизовое пребывание в Сербии", "ru", "bezvizovoe-prebyvanie-v-serbii"),
        ("Як відкрити рахунок у Києві", "uk", "yak-vidkryty-rakhunok-u-kyievi"),
        ("Їжак, Єва, Юрій, Згорани, Знам'янка", "uk", "yizhak-yeva-yurii-zghorany-znamianka"),
        ("Щастя і воля", None, "shchastia-i-volia"),
        ("Ђорђе Ђукић", "sr", "djordje-djukic"),
        ("Đorđe i Ćuprija", "sr-latn", "djordje-i-cuprija"),
        ("ЉУБАВ и Џеп", "sr", "ljubav-i-dzep"),
        ("Open mic night!", "en", "open-mic-night"),
        ("Как открыть счёт", "en", "kak-otkryt-schet"),
    ],
)
def test_slugs_follow_the_rules_of_the_titles_language(text, language, slug):
    assert slug_text(text, language=language) == slug


@given(st.text(max_size=100), st.sampled_from([None, "ru", "uk", "sr", "sr-latn", "en"]))
def test_a_slug_is_always_ascii_letters_digits_and_hyphens(text, language):
    slug = slug_text(text, language=language, max_length=40)
    assert len(slug) <= 40
    assert all(char.isascii() and (char.isalnum() or char == "-") for char in slug)
    assert slug == unicodedata.normalize("NFC", slug).lower().strip("-")
