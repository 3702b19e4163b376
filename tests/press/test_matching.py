"""The watch list finds the ways Serbian writes about the diaspora, in both scripts and in
their grammatical forms, and not the words that merely start with the same letters."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krov.core.services import to_cyrillic
from krov.press import matching
from krov.press.models import WatchTerm

pytestmark = pytest.mark.django_db


def seeded() -> matching.Matcher:
    return matching.Matcher.from_terms(WatchTerm.objects.all())


def found(text: str) -> set[str]:
    terms = {term.pk: term.term for term in WatchTerm.objects.all()}
    return {terms[pk] for pk in seeded().matches(matching.text_for_matching(text))}


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Да ли Руси окупирају Београд?", "rus"),
        ("Кирије су скочиле због Русима", "rus"),
        ("Rusi kupuju stanove", "rus"),
        ("Broj Rusa u Srbiji raste", "rus"),
        ("Razgovor sa Rusom iz Novog Sada", "rus"),
        ("Ruskinja otvorila kafić", "rus"),
        ("Руског уметника? не; Рускињама да", "rus"),
        ("Ukrajinci protestovali", "ukrajin"),
        ("Украјинаца је све више", "ukrajin"),
        ("Ukrajinka u Zemunu", "ukrajin"),
        ("Belorusi u Beogradu", "belorus"),
        ("Bjelorusi u Podgorici", "bjelorus"),
        ("Емигранти из Русије", "emigran"),
        ("Emigranata je sve više", "emigran"),
        ("Talas emigracije", "emigracij"),
        ("Izbeglice iz Harkova", "izbeglic"),
        ("Избеглицама помоћ", "izbeglic"),
        ("Izbjeglice na granici", "izbjeglic"),
        ("Ruska dijaspora u Srbiji", "dijaspor"),
        ("Дијаспори се не свиђа", "dijaspor"),
        ("Релоканти и цене станова", "relokan"),
        ("Relokantima se sviđa Beograd", "relokan"),
        ("Relokacija IT firmi", "relokacij"),
    ],
)
def test_the_seeded_terms_find_both_scripts_and_the_grammatical_forms(text, term):
    assert term in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Rusvaj u skupštini",  # a row, a mess
        "Rustikalan nameštaj na sajmu",  # rustic
        "Rusija i Kina potpisale sporazum",  # the country: not a term (see the migration)
        "Ruski jezik u školama",  # the adjective: not a term
        "Ukrajina traži pomoć",  # the country
        "Ukrajinski film na festivalu",  # the adjective
        "Belorusija zatvorila granicu",
        "Emigracioni talas",  # the adjective of emigracija
        "Prusi i Austrijanci 1866.",  # a word that only contains the stem
        "Marusi je rođendan",
        "Izbeglički kamp",  # the adjective of izbeglica
    ],
)
def test_words_that_merely_share_the_letters_do_not_match(text):
    assert found(text) == set()


def test_ruse_matches_as_the_accusative_plural_a_known_false_hit_for_the_bulgarian_town():
    assert found("Napadaju Ruse na mrežama") == {"rus"}
    assert found("Dunavom do Rusea") == set()  # the town's other forms do not match


def test_every_matched_term_is_recorded():
    assert found("Rusi, Ukrajinci i Belorusi: dijaspora protiv rata") == {
        "rus",
        "ukrajin",
        "belorus",
        "dijaspor",
    }


def test_an_editors_term_is_escaped_never_a_regular_expression():
    term = SimpleNamespace(pk=1, term="a.b", ending_list=lambda: ["", "(x)"])
    matcher = matching.Matcher.from_terms([term])
    assert matcher.matches("a.b") == [1]
    assert matcher.matches("a.b(x)") == [1]
    assert matcher.matches("axb") == []


def test_a_term_without_endings_matches_the_whole_word_only():
    term = SimpleNamespace(pk=7, term="Krov", ending_list=lambda: [""])
    matcher = matching.Matcher.from_terms([term])
    assert matcher.matches(matching.text_for_matching("Кров над главом")) == [7]
    assert matcher.matches(matching.text_for_matching("krovovi")) == []


# --- properties (the text comes from outside, the terms from editors) -------------------------

letters = st.text(alphabet="abcdefghijklmnoprstuvzšđčćž", min_size=1, max_size=8)
endings = st.lists(letters, max_size=6)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), stem=st.text(max_size=20), ends=st.lists(st.text(max_size=5)))
def test_any_text_and_any_term_never_crash_the_matcher(text, stem, ends):
    term = SimpleNamespace(pk=1, term=stem, ending_list=lambda: ends or [""])
    matcher = matching.Matcher.from_terms([term])
    assert matcher.matches(matching.text_for_matching(text)) in ([], [1])


@settings(max_examples=200, deadline=None)
@given(
    stem=st.text(alphabet="abdegiklmnoprstuvz", min_size=2, max_size=8),
    ends=endings,
    before=st.lists(letters, max_size=3),
    after=st.lists(letters, max_size=3),
    data=st.data(),
)
def test_every_allowed_form_is_found_in_either_script(stem, ends, before, after, data):
    forms = ["", *ends]
    ending = data.draw(st.sampled_from(forms))
    term = SimpleNamespace(pk=3, term=stem, ending_list=lambda: forms)
    matcher = matching.Matcher.from_terms([term])
    sentence = " ".join([*before, (stem + ending).capitalize(), *after]) + "."
    assert matcher.matches(matching.text_for_matching(sentence)) == [3]
    assert matcher.matches(matching.text_for_matching(to_cyrillic(sentence))) == [3]


@settings(max_examples=200, deadline=None)
@given(
    stem=st.text(alphabet="abdegiklmnoprstuvz", min_size=2, max_size=8),
    ends=endings,
    tail=st.text(alphabet="abcdefghijklmnoprstuvz", min_size=1, max_size=6),
    prefix=st.text(alphabet="abcdefghijklmnoprstuvz", min_size=1, max_size=3),
)
def test_a_longer_or_prefixed_word_is_not_found(stem, ends, tail, prefix):
    forms = ["", *ends]
    term = SimpleNamespace(pk=3, term=stem, ending_list=lambda: forms)
    matcher = matching.Matcher.from_terms([term])
    spelled = {stem + form for form in forms}
    # A whole word matches exactly when it is one of the allowed forms.
    for word in (stem + tail, prefix + stem, f"{prefix}{stem}{tail}"):
        assert re.fullmatch(r"\w+", word)
        assert matcher.matches(f"x {word} y") == ([3] if word in spelled else [])
