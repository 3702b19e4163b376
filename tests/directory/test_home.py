"""A reviewer's home counts the proposals waiting for review (with the oldest's age) and the
guides past their verify-by date, and reaches the review page and a new guide; nobody else
gets the panel; its queries do not grow with the number of proposals and guides."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from krov.accounts import roles
from krov.accounts.models import User
from krov.directory import home as directory_home
from krov.directory import services
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KEY = "directory-review"


def proposal_data(name: str) -> dict:
    return {"name": name, "language": "en", "kind": "ngo", "city": "Beograd"}


def make_guide(reviewer, title: str, *, verify_in_days: int):
    return services.save_guide(
        None,
        actor=reviewer,
        language="en",
        topic="arriving",
        title=title,
        body="Thirty days without a visa.",
        verify_by=timezone.localdate() + timedelta(days=verify_in_days),
    )


@pytest.fixture
def member(personas):
    return personas[roles.MEMBER].user


@pytest.fixture
def reviewer(personas):
    return personas[roles.ORGANISER].user


def panel_items(page) -> dict[str, tuple[str, str | None, str]]:
    """Label: (link, count or None, the whole line's text) of the reviewer's panel."""
    section = page.select_one(f"section#{KEY}")
    assert section is not None, "no directory review panel"
    rows = {}
    for li in section.select("li"):
        count = li.select_one(".count")
        rows[li.a.get_text(strip=True)] = (
            li.a["href"],
            count.get_text() if count else None,
            li.get_text(" ", strip=True),
        )
    return rows


def test_the_reviewers_home_counts_what_the_review_page_lists_and_the_oldest_age(member, reviewer):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        oldest = services.propose(actor=member, data=proposal_data("Pravna pomoć"))
    services.propose(actor=member, data=proposal_data("Kuća"))
    services.approve(services.propose(actor=member, data=proposal_data("Done")), actor=reviewer)
    services.reject(
        services.propose(actor=member, data=proposal_data("Refused")),
        actor=reviewer,
        reason="Not in Serbia",
    )
    make_guide(reviewer, "Visa-free stay", verify_in_days=-1)
    make_guide(reviewer, "Registration", verify_in_days=-30)
    make_guide(reviewer, "Banking", verify_in_days=0)  # due today: not late yet
    make_guide(reviewer, "Health", verify_in_days=90)
    client = signed_in(reviewer)

    items = panel_items(soup(client.get("/en/dashboard/")))

    proposals_link, proposals, line = items["Proposals waiting for review"]
    assert (proposals_link, proposals) == ("/en/directory/review/#proposals-heading", "2")
    assert "oldest: 3\xa0days" in line
    assert directory_home.panel(reviewer).items[0].since == oldest.created_at
    assert items["Guides due for checking"][:2] == ("/en/directory/review/#stale-heading", "2")
    assert items["Add a guide"][:2] == ("/en/guides/new/", None)
    # The review page lists exactly what the home counts, under the headings linked to.
    review = soup(client.get("/en/directory/review/"))
    assert len(review.select("li.proposal")) == 2
    assert len(review.select("ul.stale li")) == 2
    assert review.select_one("#proposals-heading") and review.select_one("#stale-heading")
    assert client.get("/en/guides/new/").status_code == 200


def test_nothing_waiting_shows_zero_and_no_age(reviewer):
    items = panel_items(soup(signed_in(reviewer).get("/en/dashboard/")))
    assert items["Proposals waiting for review"][1] == "0"
    assert "oldest" not in items["Proposals waiting for review"][2]
    assert items["Guides due for checking"][1] == "0"


def test_an_editor_reviews_the_directory_too(personas):
    page = soup(signed_in(personas[roles.EDITOR].user).get("/en/dashboard/"))
    assert "Proposals waiting for review" in panel_items(page)


@pytest.mark.parametrize("who", [roles.MEMBER, roles.VOLUNTEER, roles.COORDINATOR, roles.ADMIN])
def test_people_who_do_not_review_the_directory_get_no_review_panel(personas, member, who):
    services.propose(actor=member, data=proposal_data("Pravna pomoć"))
    user = personas[who].user
    assert directory_home.panel(user) is None
    page = soup(signed_in(user).get("/en/dashboard/"))
    assert page.select_one(f"section#{KEY}") is None


def test_the_review_panel_takes_the_same_queries_however_many_proposals_and_guides(
    member, reviewer
):
    def queries() -> int:
        fresh = User.objects.get(pk=reviewer.pk)  # permissions are looked up each time
        with CaptureQueriesContext(connection) as captured:
            found = directory_home.panel(fresh)
        assert found is not None
        return len(captured)

    def add(count: int, start: int) -> None:
        for index in range(start, start + count):
            services.propose(actor=member, data=proposal_data(f"Organisation {index}"))
            make_guide(reviewer, f"Guide {index}", verify_in_days=-index)

    add(1, start=1)
    few = queries()
    add(6, start=2)
    assert queries() == few
