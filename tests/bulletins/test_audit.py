"""The bulletins' four-eyes decisions are in the audit log, as other staff actions are:
submitting for review, approving (publishing), sending back and unpublishing, approving or
discarding an edit, a recording or a recording's removal. A refused action, or one that
changes nothing, records nothing. The audit page names each event for people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from krov.bulletins import services
from krov.bulletins.models import Post
from krov.bulletins.services import AuditKind
from krov.core import audit
from krov.core.models import AuditEvent
from tests.bulletins.audio_files import upload
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

# The bulletins' own kinds; those about tags are tried in test_tag_audit.py.
KINDS = [
    value
    for name, value in vars(AuditKind).items()
    if name.isupper() and value.startswith("bulletin_")
]


def events(kind: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(kind__startswith="bulletin_").order_by("id")
    return list(found.filter(kind=kind) if kind else found)


def kinds() -> list[str]:
    return [event.kind for event in events()]


@pytest.fixture
def draft(editor):
    return services.create_post(actor=editor, language="en", title="Facts", body="The facts.")


def test_every_kind_fits_the_audit_log_s_column():
    assert all(len(kind) <= 32 for kind in KINDS)
    assert len(set(KINDS)) == len(KINDS)


def test_submitting_and_approving_are_recorded_with_who_and_which_bulletin(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor)
    submitted, approved = events()
    assert (submitted.kind, approved.kind) == (AuditKind.SUBMITTED, AuditKind.APPROVED)
    assert submitted.actor_id_ref == editor.pk and approved.actor_id_ref == second_editor.pk
    assert {submitted.target, approved.target} == {f"bulletin:{draft.pk}"}
    assert submitted.detail == approved.detail == {"bulletin": draft.slug}


def test_a_scheduled_approval_records_when_it_goes_out(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    services.submit(draft, actor=editor)
    when = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor, publish_at=when)
    (approved,) = events(AuditKind.APPROVED)
    assert approved.detail == {"bulletin": draft.slug, "scheduled_for": when.isoformat()}


def test_refused_workflow_steps_record_nothing(draft, editor, second_editor, personas):
    with pytest.raises(services.BulletinError):
        services.approve(draft, actor=editor)  # a draft, and their own
    with pytest.raises(services.BulletinError):
        services.submit(draft, actor=personas["member"].user)
    services.submit(draft, actor=editor)
    with pytest.raises(services.BulletinError):
        services.submit(draft, actor=editor)  # in review already
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve(draft, actor=editor)
    with pytest.raises(services.BulletinError, match="changed since"):
        services.approve(draft, actor=second_editor, seen="something else")
    assert kinds() == [AuditKind.SUBMITTED]


def test_sending_back_from_review_and_unpublishing_are_told_apart(
    publish, editor, second_editor, draft
):
    services.submit(draft, actor=editor)
    services.send_back(draft, actor=second_editor)
    services.send_back(draft, actor=second_editor)  # a draft already: nothing to record
    post = publish()
    services.send_back(post, actor=second_editor)
    found = [e for e in events() if e.kind in (AuditKind.SENT_BACK, AuditKind.UNPUBLISHED)]
    assert [(e.kind, e.detail["bulletin"]) for e in found] == [
        (AuditKind.SENT_BACK, draft.slug),
        (AuditKind.UNPUBLISHED, post.slug),
    ]
    assert {e.actor_id_ref for e in found} == {second_editor.pk}


def test_an_author_unpublishing_a_stale_page_is_recorded_as_unpublishing(
    publish, editor, second_editor
):
    post = publish()
    stale = Post.objects.get(pk=post.pk)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.REVIEW)  # someone else's click
    services.send_back(stale, actor=editor)
    assert kinds()[-1] == AuditKind.SENT_BACK  # what the row was, not what the page thought


def test_approving_and_discarding_an_edit_are_recorded_with_languages_and_writers(
    publish, editor, second_editor, django_capture_on_commit_callbacks
):
    post = publish(language="sr")
    services.write(post, actor=editor, language="sr", title="Нови наслов", body="Нови текст.")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_edit(post, actor=second_editor, seen=services.fingerprint(post))
    (approved,) = events(AuditKind.EDIT_APPROVED)
    # Serbian is written once: the Latin twin is derived, not a language of its own here.
    assert approved.detail == {
        "bulletin": post.slug,
        "languages": ["sr"],
        "written_by": [editor.pseudonym],
    }
    assert approved.actor_id_ref == second_editor.pk
    services.write(post, actor=editor, language="sr", title="Други", body="Други текст.")
    services.discard_edit(post, actor=second_editor)
    services.discard_edit(post, actor=second_editor)  # nothing waits: nothing recorded
    (discarded,) = events(AuditKind.EDIT_DISCARDED)
    assert discarded.detail["languages"] == ["sr"]
    assert discarded.actor_id_ref == second_editor.pk


def test_an_edit_approval_refused_records_nothing(publish, editor):
    post = publish()
    services.write(post, actor=editor, language="sr-latn", title="Novi", body="Novi tekst.")
    before = kinds()
    with pytest.raises(services.BulletinError):
        services.approve_edit(post, actor=editor)
    assert kinds() == before


@pytest.fixture
def with_new_recording(
    audio_published, editor, django_capture_on_commit_callbacks
):  # a new recording by `editor` waits on the published bulletin
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=editor, upload=upload("flac"))
    return audio_published


def test_approving_and_discarding_a_recording_are_recorded_with_the_uploader(
    with_new_recording, editor, second_editor, django_capture_on_commit_callbacks
):
    post = with_new_recording
    with pytest.raises(services.BulletinError):
        services.approve_recording(post, actor=editor)  # their own: refused, not recorded
    assert AuditKind.RECORDING_APPROVED not in kinds()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(post, actor=second_editor)
    (approved,) = events(AuditKind.RECORDING_APPROVED)
    assert approved.detail == {"bulletin": post.slug, "uploaded_by": editor.pseudonym}
    assert approved.actor_id_ref == second_editor.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(post, actor=editor, upload=upload("wav"))
        services.discard_recording(post, actor=second_editor)
    (discarded,) = events(AuditKind.RECORDING_DISCARDED)
    assert discarded.detail == {"bulletin": post.slug, "uploaded_by": editor.pseudonym}


def test_a_removal_asked_approved_or_refused_is_recorded(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    post = audio_published
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_recording(post, actor=editor)
        services.discard_recording(post, actor=second_editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_recording(post, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(post, actor=second_editor, seen=services.REMOVAL_SEEN)
    found = [e for e in events() if e.kind != AuditKind.SUBMITTED and e.kind != "bulletin_approved"]
    assert [e.kind for e in found] == [
        AuditKind.REMOVAL_REQUESTED,
        AuditKind.REMOVAL_DISCARDED,
        AuditKind.REMOVAL_REQUESTED,
        AuditKind.RECORDING_REMOVED,
    ]
    assert found[1].detail == {"bulletin": post.slug, "requested_by": editor.pseudonym}
    assert found[3].detail == {"bulletin": post.slug, "requested_by": editor.pseudonym}
    assert [e.actor_id_ref for e in found] == [
        editor.pk,
        second_editor.pk,
        editor.pk,
        second_editor.pk,
    ]


def test_a_draft_s_recording_removed_at_once_is_no_approval_and_is_not_recorded(
    audio_draft, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_recording(audio_draft, actor=editor)
    assert events() == []


def test_a_rolled_back_approval_leaves_no_event(draft, editor, second_editor):
    from django.db import transaction

    services.submit(draft, actor=editor)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        services.approve(draft, actor=second_editor)
        raise Rollback
    assert kinds() == [AuditKind.SUBMITTED]


def test_the_editor_page_s_buttons_are_recorded(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    url = f"/en/bulletins/editor/{draft.slug}/"
    assert signed_in(editor).post(url + "submit/").status_code == 302
    reviewer = signed_in(second_editor)
    seen = soup(reviewer.get(url)).select_one(".approve-form input[name=seen]")["value"]
    with django_capture_on_commit_callbacks(execute=True):
        assert reviewer.post(url + "approve/", {"seen": seen}).status_code == 302
    assert reviewer.post(url + "send-back/").status_code == 302
    assert kinds() == [AuditKind.SUBMITTED, AuditKind.APPROVED, AuditKind.UNPUBLISHED]
    assert {e.actor_pseudonym for e in events()[1:]} == {second_editor.pseudonym}


def test_bulletin_events_keep_the_audit_chain_whole(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor)
    services.send_back(draft, actor=second_editor)
    assert audit.verify().ok


def test_the_audit_page_shows_bulletin_events_without_their_codes(
    draft, editor, second_editor, personas, django_capture_on_commit_callbacks
):
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor)
    services.send_back(draft, actor=second_editor)
    page = soup(signed_in(personas["admin"].user).get("/en/audit/"))
    shown = " ".join(row.get_text(" ") for row in page.select("tbody tr"))
    for code in KINDS:
        assert code not in shown, code
    assert draft.slug in shown


@pytest.mark.skipif(
    not set(KINDS) <= set(AuditEvent.Kind.values),
    reason="AuditEvent.Kind (krov/core/models.py) does not list the bulletin kinds yet",
)
def test_bulletin_kinds_have_translated_labels_and_are_offered_in_the_audit_filter(personas):
    labels = dict(AuditEvent.Kind.choices)
    for kind in KINDS:
        assert audit.kind_label(kind) == str(labels[kind])
        assert str(labels[kind]).startswith("Bulletins: ")
    page = soup(signed_in(personas["admin"].user).get("/en/audit/"))
    offered = {option["value"] for option in page.select("select[name=kind] option")}
    assert set(KINDS) <= offered


@pytest.mark.skipif(
    not {"languages", "written_by", "uploaded_by", "scheduled_for"} <= set(audit.DETAIL_LABELS),
    reason="DETAIL_LABELS (krov/core/audit.py) does not name the bulletins' details yet",
)
def test_bulletin_details_have_labels():
    described = dict(
        audit.describe({"languages": ["sr"], "written_by": ["Pero"], "uploaded_by": "Pero"})
    )
    assert set(described) == {
        str(audit.DETAIL_LABELS[key]) for key in ("languages", "written_by", "uploaded_by")
    }
