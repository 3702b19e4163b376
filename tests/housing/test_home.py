"""A member's home shows their listings on the board and their conversations, with the way
to offer a room; a moderator's home counts the reported listings. Nobody else gets them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from krov.accounts import roles
from krov.accounts.models import User
from krov.housing import home as housing_home
from krov.housing import services
from krov.housing.models import Listing
from tests.helpers import signed_in, soup

from .conftest import listing_data

pytestmark = pytest.mark.django_db


def panel(user, key: str) -> dict[str, dict] | None:
    """`key`'s panel on `user`'s home: each item's label -> its link, count and age."""
    page = soup(signed_in(user).get("/en/dashboard/"))
    section = page.select_one(f"section#{key}")
    if section is None:
        return None
    return {
        "title": {"text": section.h2.get_text(strip=True)},
        **{
            li.a.get_text(strip=True): {
                "url": li.a["href"],
                "count": li.select_one(".count").get_text() if li.select_one(".count") else None,
                "oldest": "oldest:" in li.get_text(),
            }
            for li in section.select("li")
        },
    }


def test_a_member_sees_their_listings_on_the_board_their_conversations_and_the_way_to_post(
    listing, member, other_member
):
    withdrawn = services.post_listing(actor=member, data=listing_data(title="Withdrawn"))
    services.close(withdrawn, actor=member, status=Listing.Status.WITHDRAWN)
    expired = services.post_listing(actor=member, data=listing_data(title="Expired"))
    Listing.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    services.write(listing, actor=other_member, body="Is it still free?")
    items = panel(member, "housing-member")
    assert items is not None and items["title"]["text"] == "Housing"
    assert items["Your listings"] == {"url": "/en/housing/mine/", "count": "1", "oldest": False}
    assert items["Messages"] == {"url": "/en/housing/messages/", "count": "1", "oldest": False}
    assert items["Offer a room or flat"]["url"] == "/en/housing/new/"
    assert items["Offer a room or flat"]["count"] is None
    # The one who wrote has the conversation too, and no listings of their own.
    theirs = panel(other_member, "housing-member")
    assert theirs is not None
    assert (theirs["Your listings"]["count"], theirs["Messages"]["count"]) == ("0", "1")


def test_a_conversation_counts_once_however_many_messages(listing, member, other_member):
    conversation = services.write(listing, actor=other_member, body="Hello")
    services.reply(conversation, actor=member, body="Hello to you")
    services.reply(conversation, actor=other_member, body="When can I see it?")
    items = panel(member, "housing-member")
    assert items is not None and items["Messages"]["count"] == "1"


def test_every_role_gets_the_member_panel_and_someone_without_the_members_area_does_not(
    personas,
):
    for role in roles.ROLE_ORDER:
        assert panel(personas[role].user, "housing-member") is not None, role
    # Every account is a member; one made outside the services, without a role, is not.
    outsider = User.objects.create_user(
        email="nobody@example.org", pseudonym="Nobody", password=None
    )
    assert not outsider.has_perm("accounts.use_member_area")
    assert housing_home.member_panel(outsider) is None
    assert panel(outsider, "housing-member") is None


def test_a_moderator_sees_the_flagged_listings_and_the_oldest_report(
    listing, member, other_member, moderator, personas
):
    services.flag(listing, actor=other_member, reason="scam")
    services.flag(listing, actor=personas["volunteer"].user, reason="duplicate")
    dismissed = services.post_listing(actor=member, data=listing_data(title="Fine after all"))
    services.flag(dismissed, actor=other_member, reason="duplicate")
    services.dismiss_flags(dismissed, actor=moderator)
    items = panel(moderator, "housing-moderation")
    assert items is not None and items["title"]["text"] == "Housing moderation"
    flagged = items["Flagged listings"]
    assert flagged == {"url": "/en/housing/moderation/", "count": "1", "oldest": True}
    assert items["Import rents"]["url"] == "/en/housing/rents/import/"  # their other tool
    # As many as the moderation page lists.
    assert services.flagged_listings().count() == 1
    assert (
        services.moderation_waiting()["since"] == listing.flags.order_by("created_at")[0].created_at
    )


def test_hiding_a_flagged_listing_empties_the_moderators_count(listing, other_member, moderator):
    services.flag(listing, actor=other_member, reason="scam")
    services.hide(listing, actor=moderator, reason="A scam.")
    items = panel(moderator, "housing-moderation")
    assert items is not None
    assert items["Flagged listings"] == {
        "url": "/en/housing/moderation/",
        "count": "0",
        "oldest": False,
    }


@pytest.mark.parametrize(
    "role", [roles.MEMBER, roles.VOLUNTEER, roles.COORDINATOR, roles.EDITOR, roles.ADMIN]
)
def test_people_who_do_not_moderate_housing_get_no_moderation_panel(
    personas, role, listing, other_member
):
    services.flag(listing, actor=other_member, reason="scam")
    user = personas[role].user
    assert housing_home.moderation_panel(user) is None
    assert panel(user, "housing-moderation") is None


def test_the_housing_panels_take_the_same_queries_however_many_listings(
    member, other_member, moderator, personas, settings
):
    settings.KROV_HOUSING_MESSAGES_PER_HOUR = 1000
    reporters = [other_member, personas["volunteer"].user]

    def add(count: int) -> None:
        for index in range(count):
            listing = services.post_listing(actor=member, data=listing_data(title=f"L{index}"))
            services.write(listing, actor=other_member, body="Hello")
            for reporter in reporters:
                services.flag(listing, actor=reporter, reason="scam")

    def queries() -> int:
        users = [User.objects.get(pk=pk) for pk in (member.pk, moderator.pk)]  # nothing cached
        with CaptureQueriesContext(connection) as captured:
            for user in users:
                assert housing_home.member_panel(user) is not None
            assert housing_home.moderation_panel(users[1]) is not None
        return len(captured)

    add(1)
    few = queries()
    add(5)
    assert queries() == few
    assert services.member_waiting(member) == {"listings": 6, "conversations": 6}
    assert services.moderation_waiting()["flagged"] == 6
