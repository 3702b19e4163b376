"""What editors do in the press watch is in the audit log, as other staff actions are:
marking stories, watching feeds (or no more), and the watch list. The audit page names
each event and status for people, never by its stored code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from krov.core import audit
from krov.core.models import AuditEvent
from krov.press import parsing, services
from krov.press.models import Source, Story, WatchTerm
from krov.press.services import AuditKind
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KINDS = [value for name, value in vars(AuditKind).items() if name.isupper()]


@pytest.fixture
def vesti(db) -> Source:
    return services.add_source("https://vesti.example/rss", name="Vesti", language="sr")


@pytest.fixture
def story(vesti) -> Story:
    entry = parsing.Entry(
        guid="g1",
        link="https://vesti.example/1",
        title="Да ли Руси окупирају Београд?",
        summary="",
        published_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )
    services.store_entries(vesti, [entry])
    return Story.objects.get(guid="g1")


def events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("id"))


def test_marking_a_story_records_who_and_the_status_before_and_after(story, editor):
    services.set_status(story, actor=editor, status=Story.Status.TO_ANSWER)
    services.set_status(story, actor=editor, status=Story.Status.NOT_RELEVANT)
    services.set_status(story, actor=editor, status=Story.Status.ANSWERED)
    found = events(AuditKind.STORY_MARKED)
    assert [(e.detail["old"], e.detail["new"]) for e in found] == [
        ("new", "to_answer"),
        ("to_answer", "not_relevant"),
        ("not_relevant", "answered"),
    ]
    assert {e.actor_id_ref for e in found} == {editor.pk}
    assert {e.target for e in found} == {f"press-story:{story.pk}"}
    assert found[0].detail["story"] == story.title


def test_marking_a_story_with_the_status_it_has_records_nothing(story, editor):
    services.set_status(story, actor=editor, status=Story.Status.TO_ANSWER)
    services.set_status(story, actor=editor, status=Story.Status.TO_ANSWER)
    assert len(events(AuditKind.STORY_MARKED)) == 1


def test_a_refused_status_records_nothing(story, editor, personas):
    with pytest.raises(services.PressError):
        services.set_status(story, actor=editor, status="nonsense")
    with pytest.raises(services.PressError):
        services.set_status(story, actor=personas["member"].user, status=Story.Status.ANSWERED)
    assert events(AuditKind.STORY_MARKED) == []


def test_the_press_page_s_buttons_are_recorded(story, editor):
    response = signed_in(editor).post(
        f"/en/press/stories/{story.pk}/status/", {"status": "not_relevant"}
    )
    assert response.status_code == 302
    (event,) = events(AuditKind.STORY_MARKED)
    assert event.actor_pseudonym == editor.pseudonym
    assert event.detail["new"] == "not_relevant"


def test_answering_with_a_bulletin_is_recorded_with_the_bulletin(story, editor):
    post = services.answer_with_bulletin(story, actor=editor, language="en")
    (event,) = events(AuditKind.STORY_MARKED)
    assert event.detail == {
        "story": story.title,
        "old": "new",
        "new": "to_answer",
        "bulletin": post.slug,
    }


def test_adding_a_source_is_recorded(editor):
    source = services.add_source("https://novine.example/feed", actor=editor, name="Novine")
    (event,) = events(AuditKind.SOURCE_ADDED)
    assert event.actor_id_ref == editor.pk
    assert event.target == f"press-source:{source.pk}"
    assert event.detail == {"source": "Novine"}


def test_a_source_added_on_the_command_line_is_recorded_without_a_person(db):
    services.add_source("https://novine.example/feed", name="Novine")
    (event,) = events(AuditKind.SOURCE_ADDED)
    assert event.actor_id_ref is None and event.actor_pseudonym == ""


def test_stopping_and_resuming_a_source_are_recorded_once_each(vesti, editor):
    services.set_source_active(vesti, actor=editor, active=False)
    services.set_source_active(vesti, actor=editor, active=False)  # no change: no event
    assert len(events(AuditKind.SOURCE_REMOVED)) == 1
    services.set_source_active(vesti, actor=editor, active=True)
    (event,) = events(AuditKind.SOURCE_RESTORED)
    assert event.detail == {"source": "Vesti"} and event.actor_id_ref == editor.pk


def test_adding_a_source_again_after_it_was_stopped_is_recorded_as_watched_again(vesti, editor):
    services.set_source_active(vesti, actor=editor, active=False)
    services.add_source(vesti.url, actor=editor)
    assert len(events(AuditKind.SOURCE_RESTORED)) == 1
    assert len(events(AuditKind.SOURCE_ADDED)) == 1  # the fixture's, not a second one


def test_the_sources_page_s_button_is_recorded(vesti, editor):
    response = signed_in(editor).post(f"/en/press/sources/{vesti.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    assert len(events(AuditKind.SOURCE_REMOVED)) == 1


def test_watch_list_changes_are_recorded(editor):
    watch = services.add_term("srb", actor=editor, endings="- i a")
    (added,) = events(AuditKind.TERM_ADDED)
    assert added.detail == {"term": "srb", "endings": "- i a"}
    services.change_term(watch, actor=editor, endings="- i a ima")
    (changed,) = events(AuditKind.TERM_CHANGED)
    assert changed.detail == {"term": "srb", "old": "- i a", "new": "- i a ima"}
    services.change_term(watch, actor=editor, endings="- i a ima")  # no change: no event
    assert len(events(AuditKind.TERM_CHANGED)) == 1
    pk = watch.pk
    services.remove_term(watch, actor=editor)
    (removed,) = events(AuditKind.TERM_REMOVED)
    assert removed.detail == {"term": "srb", "endings": "- i a ima"}
    assert removed.target == f"press-term:{pk}"
    assert {e.actor_id_ref for e in (added, changed, removed)} == {editor.pk}


def test_the_watch_list_pages_are_recorded(editor):
    client = signed_in(editor)
    assert client.post("/en/press/terms/", {"term": "srb", "endings": "- i"}).status_code == 302
    watch = WatchTerm.objects.get(term="srb")
    client.post(f"/en/press/terms/{watch.pk}/", {"endings": "- i a"})
    client.post(f"/en/press/terms/{watch.pk}/remove/")
    assert [e.kind for e in AuditEvent.objects.order_by("id") if e.kind.startswith("press_")] == [
        AuditKind.TERM_ADDED,
        AuditKind.TERM_CHANGED,
        AuditKind.TERM_REMOVED,
    ]


def test_press_events_keep_the_audit_chain_whole(story, editor):
    services.set_status(story, actor=editor, status=Story.Status.TO_ANSWER)
    services.add_term("srb", actor=editor)
    assert audit.verify().ok


def test_the_audit_page_names_press_events_and_statuses_for_people(story, editor, personas):
    services.set_status(story, actor=editor, status=Story.Status.TO_ANSWER)
    services.set_source_active(story.source, actor=editor, active=False)
    watch = services.add_term("srb", actor=editor)
    services.remove_term(watch, actor=editor)
    page = soup(signed_in(personas["admin"].user).get("/en/audit/"))
    rows = {
        row.select("td")[1].get_text(): row.select("td")[4].get_text()
        for row in page.select("tbody tr")
    }
    shown = " ".join(f"{kind} {details}" for kind, details in rows.items())
    for code in [*KINDS, "to_answer", "not_relevant"]:
        assert code not in shown, code
    story_row = next(details for kind, details in rows.items() if "story" in kind.lower())
    assert "New" in story_row and "To answer" in story_row
    assert sum("press" in kind.lower() for kind in rows) == 5  # and the source added


@pytest.mark.skipif(
    not set(KINDS) <= set(AuditEvent.Kind.values),
    reason="AuditEvent.Kind (krov/core/models.py) does not list the press kinds yet",
)
def test_press_kinds_have_translated_labels_and_are_offered_in_the_audit_filter(personas):
    labels = dict(AuditEvent.Kind.choices)
    for kind in KINDS:
        assert audit.kind_label(kind) == str(labels[kind])
    page = soup(signed_in(personas["admin"].user).get("/en/audit/"))
    offered = {option["value"] for option in page.select("select[name=kind] option")}
    assert set(KINDS) <= offered
