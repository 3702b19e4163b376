"""An empty POST to any form answers 400 with what is missing, never a bare page: the
form is bound to the (empty) POST, not treated as if nothing had been sent."""

from __future__ import annotations

import pytest

from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

FORMS = [
    ("member", "/en/housing/new/"),
    ("organiser", "/en/housing/rents/import/"),
    ("member", "/en/directory/propose/"),
    ("organiser", "/en/guides/new/"),
    ("editor", "/en/bulletins/editor/"),
]


@pytest.mark.parametrize(("role", "path"), FORMS)
def test_an_empty_post_names_what_is_missing(personas, role, path):
    client = signed_in(personas[role].user)
    assert client.get(path).status_code == 200, path
    response = client.post(path, {})
    assert response.status_code == 400, path
    assert soup(response).select(".error, .errorlist"), path


def test_an_empty_post_to_a_bulletins_edit_page_names_what_is_missing(personas):
    from krov.bulletins import services as bulletins

    editor = personas["editor"].user
    post = bulletins.create_post(actor=editor, language="en", title="T", summary="", body="B")
    response = signed_in(editor).post(f"/en/bulletins/editor/{post.slug}/", {})
    assert response.status_code == 400
    assert soup(response).select(".error, .errorlist")
