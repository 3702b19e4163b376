"""The reviewers' word diff (krov.core.diff): what went is in <del>, what came in <ins>,
everything escaped, and both texts can be read back from it."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from krov.core.diff import changes, word_diff

texts = st.text(alphabet=st.sampled_from(list("ab <>&\"' \nЖж")), max_size=40)


def _side(diff: str, drop: str) -> str:
    """The text as one side had it: the other side's marked parts removed, tags undone."""
    kept = re.sub(rf"<{drop}>.*?</{drop}>", "", diff, flags=re.S)
    return html.unescape(re.sub(r"</?(?:del|ins)>", "", kept))


@given(before=texts, after=texts)
def test_both_texts_read_back_from_the_diff_and_nothing_is_markup(before, after):
    diff = str(word_diff(before, after))
    assert _side(diff, "del") == after
    assert _side(diff, "ins") == before
    assert re.sub(r"</?(?:del|ins)>", "", diff).count("<") == 0  # every "<" was escaped


def test_a_changed_word_is_marked_and_the_rest_is_not():
    diff = str(word_diff("Open daily in Novi Sad", "Open daily in Belgrade"))
    assert diff == "Open daily in <del>Novi Sad</del><ins>Belgrade</ins>"


def test_a_field_knows_whether_it_changed():
    same, other = changes([("City", "Beograd", "Beograd"), ("Email", "", "a@b.org")])
    assert not same.changed and other.changed
    assert str(other.diff) == "<ins>a@b.org</ins>"
