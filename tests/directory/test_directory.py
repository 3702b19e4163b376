"""Directory and guides: proposals and review, duplicates, revisions, staleness, search in
both scripts, pages, and the API's fields."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from krov.directory import services
from krov.directory.models import Guide, Organisation, Proposal, Revision
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

LEGAL = {
    "name": "Pravna pomoć",
    "language": "sr-latn",
    "kind": "ngo",
    "city": "Beograd",
    "description": "Pravni saveti za boravak.",
    "areas": ["legal"],
    "languages": ["ru", "sr"],
    "website": "https://example.org/pp",
    "telegram": "@pravna_pomoc",
}


@pytest.fixture
def member(personas):
    return personas["member"].user


@pytest.fixture
def reviewer(personas):
    return personas["organiser"].user


@pytest.fixture
def legal(member, reviewer):
    return services.approve(services.propose(actor=member, data=LEGAL), actor=reviewer)


def test_a_proposal_is_reviewed_approved_and_the_proposer_told(
    member, reviewer, django_capture_on_commit_callbacks
):
    proposal = services.propose(actor=member, data=LEGAL)
    assert not Organisation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        org = services.approve(proposal, actor=reviewer)
    assert org.text("sr").name == "Правна помоћ"  # Cyrillic derived
    assert Revision.objects.filter(organisation=org).count() == 1
    assert any(m.to == [member.email] for m in mail.outbox)


def test_a_rejection_needs_a_reason_which_the_proposer_gets(
    member, reviewer, django_capture_on_commit_callbacks
):
    proposal = services.propose(actor=member, data=LEGAL)
    with pytest.raises(services.DirectoryError, match="reason"):
        services.reject(proposal, actor=reviewer, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject(proposal, actor=reviewer, reason="Not in Serbia")
    assert Proposal.objects.get().status == "rejected"
    # Told once the reviewer can no longer undo it (tests/directory/test_reject_undo.py).
    with django_capture_on_commit_callbacks(execute=True):
        services.tell_rejected(now=timezone.now() + timedelta(minutes=6))
    assert "Not in Serbia" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "name"),
        ({"website": "not a url"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"email": "nobody@"}, "email"),
        ({"telegram": "a b"}, "Telegram"),
        ({"kind": "cult"}, "kind"),
    ],
)
def test_bad_proposals_are_refused_with_a_reason(member, change, message):
    with pytest.raises(services.DirectoryError, match=message):
        services.propose(actor=member, data={**LEGAL, **change})
    assert not Proposal.objects.exists()


def test_a_duplicate_is_offered_as_a_correction(member, legal):
    with pytest.raises(services.Duplicate) as raised:
        services.propose(actor=member, data={**LEGAL, "name": "PRAVNA POMOĆ", "city": "beograd"})
    assert raised.value.existing == legal
    response = signed_in(member).post(
        "/en/directory/propose/",
        {"language": "sr", "name": "Правна помоћ", "kind": "ngo", "city": "Beograd"},
    )
    assert response.status_code == 409
    assert soup(response).select_one(f'a[href="/en/directory/{legal.slug}/correct/"]')


def test_a_correction_keeps_both_versions_in_the_history(member, reviewer, legal):
    proposal = services.propose(
        actor=member, data={**LEGAL, "opening_hours": "Mon–Fri 10–18"}, organisation=legal
    )
    services.approve(proposal, actor=reviewer)
    revisions = list(Revision.objects.filter(organisation=legal).order_by("created_at"))
    assert len(revisions) == 2
    assert revisions[0].data["opening_hours"] == "" and revisions[1].data["opening_hours"]
    page = soup(Client().get(f"/en/directory/{legal.slug}/"))
    assert len(page.select("ul.revisions li")) == 2


def test_filters_by_area_and_language_and_search_in_both_scripts(legal):
    assert list(services.organisations(area="legal", language="ru")) == [legal]
    assert not services.organisations(area="housing").exists()
    assert list(services.organisations(query="правни")) == [legal]
    page = soup(Client().get("/en/directory/?area=legal&language=ru"))
    assert [a.get_text() for a in page.select("li.organisation h2 a")] == ["Pravna pomoć"]
    assert Client().get("/en/directory/?area=astrology").status_code == 400


def test_organisation_page_has_json_ld(legal):
    page = soup(Client().get(f"/en/directory/{legal.slug}/"))
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["@type"] == "Organization" and data["knowsLanguage"] == ["ru", "sr"]


@pytest.fixture
def stale_guide(reviewer, legal):
    return services.save_guide(
        None,
        actor=reviewer,
        language="ru",
        topic="arriving",
        title="Безвизовое пребывание",
        body="## Сроки\n\nТридцать дней.\n\n## Продление\n\nБоравак.",
        steps="Проверить дату\nЗарегистрироваться",
        sources="",
        verify_by=timezone.localdate() - timedelta(days=1),
        organisations=[legal],
    )


def test_a_stale_guide_warns_readers_and_waits_on_the_reviewers_list(
    stale_guide, reviewer, django_capture_on_commit_callbacks
):
    page = soup(Client().get(f"/ru/guides/{stale_guide.slug}/"))
    assert page.select_one(".stale-warning")
    assert page.select_one(".no-sources")  # a guide without sources says so
    assert [a.get_text() for a in page.select(".toc a")] == ["Сроки", "Продление"]
    assert len(page.select(".checklist input[type=checkbox]")) == 2
    review = soup(signed_in(reviewer).get("/en/directory/review/"))
    assert stale_guide.slug in str(review.select_one("ul.stale"))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_reviewers_about_stale_guides() == 1
    assert any(m.to == [reviewer.email] for m in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        signed_in(reviewer).post(f"/en/guides/{stale_guide.slug}/verify/")
    stale_guide.refresh_from_db()
    assert not stale_guide.is_stale and stale_guide.last_verified_at == timezone.localdate()
    assert stale_guide.revisions.first().note == "Verified"
    assert not soup(Client().get(f"/ru/guides/{stale_guide.slug}/")).select_one(".stale-warning")


def test_guides_are_found_by_the_site_search_in_both_scripts(reviewer):
    services.save_guide(
        None,
        actor=reviewer,
        language="sr-latn",
        topic="banking",
        title="Otvaranje računa",
        body="Pasoš i boravak.",
        verify_by=timezone.localdate() + timedelta(days=30),
    )
    page = soup(Client().get("/sr/search/?q=рачуна"))
    assert page.select("ul.guide-results li a")


def test_organisations_are_found_by_the_site_search_in_both_scripts(legal):
    page = soup(Client().get("/en/search/?q=правна"))
    links = {a["href"] for a in page.select("ul.org-results li a")}
    assert f"/sr-latn/directory/{legal.slug}/" in links
    assert not soup(Client().get("/en/search/?q=astrology")).select("ul.org-results")


def test_guide_sources_must_be_links(reviewer):
    from django.utils import translation

    with translation.override("en"), pytest.raises(services.DirectoryError, match="web addresses"):
        services.save_guide(
            None,
            actor=reviewer,
            language="en",
            topic="health",
            title="T",
            body="B",
            sources="the ministry",
            verify_by=timezone.localdate(),
        )
    assert not Guide.objects.exists()


@pytest.mark.parametrize(
    ("who", "url", "expected"),
    [
        ("anonymous", "/en/directory/propose/", 302),
        ("member", "/en/directory/propose/", 200),
        ("member", "/en/directory/review/", 403),
        ("volunteer", "/en/directory/review/", 403),
        ("organiser", "/en/directory/review/", 200),
        ("editor", "/en/directory/review/", 200),
        ("member", "/en/guides/new/", 403),
        ("editor", "/en/guides/new/", 200),
    ],
)
def test_who_reaches_the_directory_pages(personas, who, url, expected):
    client = Client() if who == "anonymous" else signed_in(personas[who].user)
    assert client.get(url).status_code == expected


ORG_FIELDS = {
    "slug",
    "kind",
    "language",
    "name",
    "description_html",
    "areas",
    "languages_spoken",
    "city",
    "address",
    "online",
    "opening_hours",
    "website",
    "email",
    "telegram",
    "verified",
    "url",
}


def test_the_api_returns_only_the_listed_fields(legal, member):
    services.propose(actor=member, data={**LEGAL, "name": "Secret pending", "city": "Niš"})
    page = Client().get("/api/v1/organisations?area=legal&spoken=ru").json()
    (org,) = page["results"]
    assert set(org) == ORG_FIELDS
    assert "Secret pending" not in json.dumps(page)
    assert set(Client().get(f"/api/v1/organisations/{legal.slug}").json()) == ORG_FIELDS
    assert Client().get("/api/v1/organisations?area=astrology").status_code == 422


def test_history_and_verification_name_people_to_reviewers_only(member, reviewer, legal):
    """Who proposed or verified an organisation's entry is for reviewers, not the public."""
    services.verify_organisation(legal, actor=reviewer)
    url = f"/en/directory/{legal.slug}/"
    for client in (Client(), signed_in(member)):
        page = soup(client.get(url)).select_one("main").get_text()
        assert member.pseudonym not in page
        assert reviewer.pseudonym not in page
    reviewer_page = soup(signed_in(reviewer).get(url)).select_one("ul.revisions").get_text()
    assert member.pseudonym in reviewer_page or reviewer.pseudonym in reviewer_page


def test_rejecting_a_proposal_over_http_asks_i_am_sure_first(member, reviewer):
    proposal = services.propose(actor=member, data=LEGAL)
    client = signed_in(reviewer)
    form = {"proposal": proposal.pk, "decision": "reject", "reason": "Not in Serbia"}
    response = client.post("/en/directory/review/", form, follow=True)
    assert "I am sure" in soup(response).select_one(".messages").get_text()
    assert Proposal.objects.get().status == "pending"
    client.post("/en/directory/review/", {**form, "confirm": "yes"})
    assert Proposal.objects.get().status == "rejected"


def test_a_reviewer_sees_a_correction_as_a_diff_against_the_entry_now(member, reviewer, legal):
    services.propose(
        actor=member,
        data={**LEGAL, "city": "Novi Sad", "areas": ["legal", "housing"], "telegram": ""},
        organisation=legal,
    )
    page = soup(signed_in(reviewer).get("/en/directory/review/"))
    (card,) = page.select("li.proposal")
    changed = {
        dt.get_text(strip=True): dd
        for dt, dd in zip(card.select("dl.changes dt"), card.select("dl.changes dd"), strict=True)
    }
    assert set(changed) == {"City", "Areas of work", "Telegram channel"}
    assert changed["City"].select_one("del").get_text() == "Beograd"
    assert changed["City"].select_one("ins").get_text() == "Novi Sad"
    assert "Housing" in changed["Areas of work"].select_one("ins").get_text()
    assert changed["Telegram channel"].select_one("del").get_text() == "@pravna_pomoc"
    unchanged = card.select_one("details.unchanged").get_text()
    assert "Pravna pomoć" in unchanged and "Pravni saveti" in unchanged


def test_a_new_organisation_is_shown_whole_and_the_page_costs_the_same_for_many(
    member, reviewer, legal
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.propose(actor=member, data={**LEGAL, "name": "Sasvim nova", "city": "Niš"})
    desk = signed_in(reviewer)
    with CaptureQueriesContext(connection) as few:
        page = soup(desk.get("/en/directory/review/"))
    (card,) = page.select("li.proposal")
    assert not card.select("del") and not card.select("details.unchanged")
    assert "Sasvim nova" in card.select_one("dl.changes").get_text()
    for index in range(5):
        services.propose(
            actor=member,
            data={**LEGAL, "description": f"Ispravka {index}"},
            organisation=legal,
        )
    with CaptureQueriesContext(connection) as many:
        page = soup(desk.get("/en/directory/review/"))
    assert len(page.select("li.proposal")) == 6
    assert len(many.captured_queries) <= len(few.captured_queries) + 1
