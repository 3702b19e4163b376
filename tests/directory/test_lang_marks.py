"""An organisation or guide shown in another language than the page is marked with `lang`
(its page, its card, the guide list); on a page in its own language it carries none."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.directory import services
from tests.directory.test_directory import LEGAL
from tests.helpers import soup

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian_org(personas):
    data = {**LEGAL, "name": "Юридическая помощь", "language": "ru", "description": "Советы."}
    proposal = services.propose(actor=personas["member"].user, data=data)
    return services.approve(proposal, actor=personas["organiser"].user)


def test_an_untranslated_organisation_is_marked_with_its_language(russian_org):
    page = soup(Client().get(f"/en/directory/{russian_org.slug}/"))
    assert page.h1["lang"] == "ru"
    assert page.select_one("div.description")["lang"] == "ru"
    card = soup(Client().get("/uk/directory/")).select_one("li.card.organisation h2 a")
    assert card["lang"] == "ru"
    label = soup(Client().get("/en/directory/")).select_one("li.card.organisation .lang-label")
    assert label.get_text() == "Russian"
    assert soup(Client().get("/ru/directory/")).select_one(".lang-label") is None
    own = soup(Client().get(f"/ru/directory/{russian_org.slug}/"))
    assert not own.h1.has_attr("lang")
