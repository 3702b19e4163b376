"""Banning a poster is never one click from a moderation card: the card links to a page that
says whom the ban hits and what it hides, and asks for a reason and "I am sure"; the ban can
be undone for a while (krov.core.undo, "housing.ban")."""

from __future__ import annotations

import pytest
from django.utils import translation

from krov.housing import services
from tests.helpers import signed_in, soup
from tests.housing.conftest import listing_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(listing, other_member):
    services.flag(listing, actor=other_member, reason="scam")
    return listing


def ban_url(listing) -> str:
    return f"/en/housing/{listing.pk}/moderate/ban/"


def test_a_moderation_card_links_to_the_ban_page_and_holds_no_ban_form(flagged, member, moderator):
    page = soup(signed_in(moderator).get("/en/housing/moderation/"))
    card = page.select_one("article.card")
    assert not [f for f in card.select("form") if f["action"].endswith("/ban/")]
    assert not card.find("button", string="Ban the poster")
    link = card.select_one("a.danger-link")
    assert link["href"] == ban_url(flagged) and member.pseudonym in link.get_text()


def test_the_ban_page_says_what_a_ban_hides_and_bans_nobody(flagged, member, moderator):
    second = services.post_listing(actor=member, data=listing_data(title="Second flat"))
    response = signed_in(moderator).get(ban_url(flagged))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = soup(response)
    assert member.pseudonym in page.h1.get_text()
    hidden = page.select_one("#showing-heading").find_parent("section")
    assert {a["href"] for a in hidden.select("a")} == {
        flagged.get_absolute_url(),
        second.get_absolute_url(),
    }
    form = page.select_one("main form[method=post]")
    assert form.select_one("input[name=confirm][type=checkbox][required]") is not None
    assert form.select_one("input[name=reason][required]") is not None
    assert not services.is_banned(member)


def test_without_i_am_sure_nothing_is_banned_and_the_page_asks_again(flagged, member, moderator):
    with translation.override("en"):
        response = signed_in(moderator).post(ban_url(flagged), {"reason": "serial scammer"})
    assert response.status_code == 409
    page = soup(response)
    assert "I am sure" in page.select_one("p.error[role=alert]").get_text()
    assert page.select_one("input[name=reason]")["value"] == "serial scammer"  # kept
    assert not services.is_banned(member)


def test_a_ban_needs_a_reason_shown_beside_the_field(flagged, member, moderator):
    response = signed_in(moderator).post(ban_url(flagged), {"reason": "", "confirm": "yes"})
    assert response.status_code == 400
    assert soup(response).select_one(".field.has-error input[name=reason]") is not None
    assert not services.is_banned(member)


def test_a_confirmed_ban_hides_the_posters_listings_and_can_be_undone(flagged, member, moderator):
    second = services.post_listing(actor=member, data=listing_data(title="Second flat"))
    desk = signed_in(moderator)
    response = desk.post(
        ban_url(flagged), {"reason": "serial scammer", "confirm": "yes"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/en/housing/moderation/"
    assert services.is_banned(member)
    for item in (flagged, second):
        item.refresh_from_db()
        assert item.status == "hidden"
    # The ban page now says so and offers no second ban.
    again = soup(desk.get(ban_url(flagged)))
    assert again.select_one("main form[method=post]") is None
    token = soup(response).select_one("form.undo input[name=token]")["value"]
    undone = desk.post("/en/undo/", {"token": token, "next": "/en/housing/moderation/"})
    assert undone.status_code == 302 and not services.is_banned(member)
    for item in (flagged, second):
        item.refresh_from_db()
        assert item.status == "published"


def test_only_moderators_reach_the_ban_page(flagged, member, other_member):
    for person in (member, other_member):
        response = signed_in(person).get(ban_url(flagged))
        assert response.status_code in (403, 404)
    assert not services.is_banned(member)


def test_other_moderation_actions_still_take_only_post(flagged, moderator):
    assert signed_in(moderator).get(f"/en/housing/{flagged.pk}/moderate/hide/").status_code == 405
