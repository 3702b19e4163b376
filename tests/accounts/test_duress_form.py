"""The duress form tells what is wrong, whatever is posted: never a bare 400."""

from __future__ import annotations

import pytest

from krov.accounts import roles
from tests.conftest import PASSWORD
from tests.helpers import soup

pytestmark = pytest.mark.django_db

URL = "/en/account/duress/"


def _errors(response) -> list[str]:
    return [p.get_text(strip=True) for p in soup(response).select("p.error[role=alert]")]


@pytest.mark.parametrize("data", [{}, {"password": "", "duress_password": ""}])
def test_an_empty_duress_form_says_what_is_missing(personas, login_as, data):
    response = login_as(personas[roles.MEMBER]).post(URL, data)
    assert response.status_code == 400
    assert _errors(response) == ["This field is required."]


def test_a_wrong_current_password_is_named(personas, login_as):
    response = login_as(personas[roles.MEMBER]).post(URL, {"password": "not it"})
    assert response.status_code == 400
    assert _errors(response) == ["This is not your current password."]


def test_a_too_short_duress_password_is_named(personas, login_as):
    response = login_as(personas[roles.MEMBER]).post(
        URL, {"password": PASSWORD, "duress_password": "short"}
    )
    assert response.status_code == 400
    assert _errors(response) == ["The duress password must be at least 8 characters long."]
