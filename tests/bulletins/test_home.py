"""An editor's home shows their drafts and what waits for a second editor (never what they
wrote themselves), with the way to write a bulletin; nobody else gets the newsroom."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.bulletins import home as bulletins_home
from krov.bulletins import services
from krov.bulletins.models import Post
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

NEWSROOM = "/en/bulletins/editor/"


@pytest.fixture(autouse=True)
def _second_editor_rule(settings):
    settings.KROV_BULLETINS_SELF_APPROVAL = False


def panel(user) -> dict[str, dict]:
    """The newsroom panel of `user`'s home: each item's label -> its link, count and age."""
    page = soup(signed_in(user).get("/en/dashboard/"))
    section = page.select_one("section#bulletins-editor")
    assert section is not None, "no newsroom panel"
    assert section.h2.get_text(strip=True) == "Newsroom"
    return {
        li.a.get_text(strip=True): {
            "url": li.a["href"],
            "count": li.select_one(".count").get_text() if li.select_one(".count") else None,
            "oldest": "oldest:" in li.get_text(),
        }
        for li in section.select("li")
    }


def draft(author, title: str) -> Post:
    return services.create_post(actor=author, language="en", title=title, body="Facts.")


def submitted(author, title: str) -> Post:
    post = draft(author, title)
    services.submit(post, actor=author)
    return post


def test_an_editor_sees_a_post_a_second_editor_submitted_as_waiting_but_not_their_own(
    editor, second_editor
):
    draft(editor, "My draft")
    submitted(editor, "Mine, in review")
    submitted(second_editor, "Theirs, in review")
    items = panel(editor)
    assert items["Your drafts"] == {"url": NEWSROOM, "count": "1", "oldest": False}
    assert items["Waiting for a second editor"] == {"url": NEWSROOM, "count": "1", "oldest": True}
    # The second editor sees the first one's submission, and has no drafts.
    items = panel(second_editor)
    assert items["Your drafts"]["count"] == "0"
    assert items["Waiting for a second editor"]["count"] == "1"


def test_the_write_link_leads_to_the_newsrooms_new_bulletin_form(editor):
    url = panel(editor)["Write a bulletin"]["url"]
    assert url == f"{NEWSROOM}#new-heading"
    assert panel(editor)["Write a bulletin"]["count"] is None
    page = soup(signed_in(editor).get(url.split("#")[0]))
    section = page.select_one('section[aria-labelledby="new-heading"]')
    assert page.select_one("#new-heading") is not None and section.form is not None


def test_a_post_in_review_the_editor_rewrote_no_longer_waits_for_them(editor, second_editor):
    post = submitted(second_editor, "Theirs")
    services.write(post, actor=editor, language="en", title="Rewritten", body="Facts!")
    assert panel(editor)["Waiting for a second editor"]["count"] == "0"
    # Nor for its author, who may not approve what they wrote either.
    assert panel(second_editor)["Waiting for a second editor"]["count"] == "0"


def test_a_draft_the_editor_last_wrote_counts_as_theirs(editor, second_editor):
    post = draft(second_editor, "Theirs")
    services.write(post, actor=editor, language="en", title="Improved", body="Facts!")
    assert panel(editor)["Your drafts"]["count"] == "1"
    assert panel(second_editor)["Your drafts"]["count"] == "1"  # still its author


def test_a_pending_edit_to_a_published_bulletin_waits_for_someone_who_wrote_none_of_it(
    publish, editor, second_editor
):
    post = publish()  # written by `editor`, approved by `second_editor`
    assert panel(editor)["Waiting for a second editor"]["count"] == "0"
    services.write(post, actor=second_editor, language="en", title="Edited", body="New.")
    # The author may approve someone else's edit (as services.approve_edit allows) ...
    mine = panel(editor)["Waiting for a second editor"]
    assert mine["count"] == "1" and mine["oldest"]
    # ... the one who wrote the edit may not.
    assert panel(second_editor)["Waiting for a second editor"]["count"] == "0"
    services.approve_edit(post, actor=editor)
    assert panel(editor)["Waiting for a second editor"]["count"] == "0"


def test_a_serbian_edit_in_both_scripts_waits_as_one_bulletin(publish, editor, second_editor):
    post = publish()
    services.write(post, actor=second_editor, language="sr-latn", title="Novi", body="Tekst.")
    assert services.pending_edit(post).keys() == {"sr", "sr-latn"}
    assert panel(editor)["Waiting for a second editor"]["count"] == "1"


def test_the_oldest_waiting_is_the_earliest_submission_or_edit(publish, editor, second_editor):
    post = publish()
    services.write(post, actor=second_editor, language="en", title="Edited", body="New.")
    written_at = post.revisions.get(language="en").written_at
    later = submitted(second_editor, "Later")
    assert later.status == Post.Status.REVIEW
    assert services.newsroom_waiting(editor)["since"] == written_at


def test_with_self_approval_on_an_editor_may_approve_their_own(editor, settings):
    settings.KROV_BULLETINS_SELF_APPROVAL = True
    submitted(editor, "Mine")
    assert panel(editor)["Waiting for a second editor"]["count"] == "1"


def test_a_writer_who_may_not_publish_sees_drafts_but_nothing_to_approve(second_editor):
    writer = account_services.create_account(
        email="writer@example.org", pseudonym="Writer", password=None, roles=[roles.MEMBER]
    )
    writer.user_permissions.add(Permission.objects.get(codename="edit_bulletins"))
    writer = User.objects.get(pk=writer.pk)  # without the permissions cached before
    draft(writer, "Mine")
    submitted(second_editor, "Theirs")
    items = panel(writer)
    assert items["Your drafts"]["count"] == "1"
    assert "Waiting for a second editor" not in items
    assert "Write a bulletin" in items


@pytest.mark.parametrize("role", [roles.MEMBER, roles.VOLUNTEER, roles.ORGANISER, roles.ADMIN])
def test_people_who_are_not_editors_get_no_newsroom(personas, role, second_editor):
    submitted(second_editor, "Theirs")
    user = personas[role].user
    assert bulletins_home.editor_panel(user) is None
    page = soup(signed_in(user).get("/en/dashboard/"))
    assert page.select_one("section#bulletins-editor") is None


def test_the_newsroom_panel_takes_the_same_queries_however_many_bulletins(
    publish, editor, second_editor
):
    def add(count: int) -> None:
        for index in range(count):
            draft(editor, f"Draft {index}")
            submitted(second_editor, f"Review {index}")
            post = publish(f"Published {index}")
            services.write(post, actor=second_editor, language="en", title="Edit", body="New.")

    def queries() -> int:
        user = User.objects.get(pk=editor.pk)  # permissions not cached yet, every time
        with CaptureQueriesContext(connection) as captured:
            found = bulletins_home.editor_panel(user)
        assert found is not None
        return len(captured)

    add(1)
    few = queries()
    add(5)
    assert queries() == few
    counts = services.newsroom_waiting(editor)
    assert (counts["drafts"], counts["waiting"]) == (6, 12)


def test_the_home_page_shows_the_latest_bulletins_in_the_visitors_script(client, publish):
    publish("Ratni zločini i istina")
    page = soup(client.get("/sr/"))
    titles = [h.get_text(strip=True) for h in page.select("#home-bulletins .card h2")]
    assert titles == ["Ратни злочини и истина"]  # Cyrillic on /sr/
    latin = soup(client.get("/sr-latn/"))
    assert [h.get_text(strip=True) for h in latin.select("#home-bulletins .card h2")] == [
        "Ratni zločini i istina"
    ]
