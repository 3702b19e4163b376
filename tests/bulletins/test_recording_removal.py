"""Four eyes on taking a published bulletin's sound offline: "Remove the recording" on a
published bulletin asks for the removal, and the recording stays public until a second
editor approves it (as a replacement does). A draft's recording (nothing public) goes at
once."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from krov.bulletins import services
from krov.bulletins.models import PendingRecording, Post, Recording
from tests.bulletins.audio_files import upload
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def public_audio(post) -> set[str]:
    """The audio addresses a listener's page of `post` offers."""
    page = soup(Client().get(f"/en/bulletins/{post.slug}/"))
    return {source["src"] for source in page.select("article .bulletin-audio audio source")}


def podcast_enclosures() -> list[str]:
    from lxml import etree

    rss = etree.fromstring(Client().get("/en/bulletins/podcast/").content)
    return [e.get("url") for e in rss.findall("channel/item/enclosure")]


def name_of(stored: str) -> str:
    return stored.rsplit("/", 1)[-1]


def files_of(row) -> list[str]:
    return [row.opus, row.mp3]


def request_removal(post, *, by, capture) -> PendingRecording:
    with capture(execute=True):
        waiting = services.remove_recording(post, actor=by)
    assert isinstance(waiting, PendingRecording)
    return PendingRecording.objects.get(pk=waiting.pk)


def test_removing_a_published_bulletin_s_recording_waits_and_it_stays_public(
    audio_published, editor, django_capture_on_commit_callbacks
):
    recording = Recording.objects.get()
    heard = public_audio(audio_published)
    assert heard and podcast_enclosures()
    waiting = request_removal(
        audio_published, by=editor, capture=django_capture_on_commit_callbacks
    )
    assert waiting.removal and waiting.uploaded_by == editor
    assert Recording.objects.get().mp3 == recording.mp3
    assert services.playable(Post.objects.get(pk=audio_published.pk)) is not None
    assert public_audio(audio_published) == heard
    assert [name_of(url) for url in podcast_enclosures()] == [name_of(recording.mp3)]
    assert all(default_storage.exists(name) for name in files_of(recording))
    for stored in files_of(recording):
        url = f"/en/bulletins/{audio_published.slug}/audio/{name_of(stored)}"
        assert Client().get(url).status_code == 200


def test_a_second_editor_s_approval_takes_it_offline_and_deletes_the_files_after_commit(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    recording = Recording.objects.get()
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = services.approve_recording(
            audio_published, actor=second_editor, seen=services.REMOVAL_SEEN
        )
    assert answer is None
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()
    # Not deleted before the commit...
    assert all(default_storage.exists(name) for name in files_of(recording))
    for callback in callbacks:
        callback()
    # ...and after it.
    assert not any(default_storage.exists(name) for name in files_of(recording))
    assert public_audio(audio_published) == set()
    assert podcast_enclosures() == []
    post = Post.objects.get(pk=audio_published.pk)
    assert post.status == Post.Status.PUBLISHED  # the text stays published
    assert post.approved_by == second_editor


def test_the_editor_who_asked_may_not_approve_the_removal(
    audio_published, editor, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    assert not services.may_approve_recording(audio_published, editor)
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve_recording(audio_published, actor=editor, seen=services.REMOVAL_SEEN)
    assert Recording.objects.exists() and PendingRecording.objects.get().removal


def test_self_approval_of_a_removal_only_when_the_setting_allows_it(
    audio_published, editor, settings, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    settings.KROV_BULLETINS_SELF_APPROVAL = True
    assert services.may_approve_recording(audio_published, editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(audio_published, actor=editor)
    assert not Recording.objects.exists()


def test_a_member_can_neither_ask_for_nor_approve_a_removal(
    audio_published, editor, personas, django_capture_on_commit_callbacks
):
    member = personas["member"].user
    with pytest.raises(services.BulletinError):
        services.remove_recording(audio_published, actor=member)
    assert not PendingRecording.objects.exists()
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    with pytest.raises(services.BulletinError):
        services.approve_recording(audio_published, actor=member)
    assert Recording.objects.exists()


def test_refusing_the_removal_keeps_the_recording_and_its_files(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    recording = Recording.objects.get()
    heard = public_audio(audio_published)
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        refused = services.discard_recording(audio_published, actor=second_editor)
    assert refused is not None and refused.removal
    assert not PendingRecording.objects.exists()
    assert Recording.objects.get().mp3 == recording.mp3
    assert all(default_storage.exists(name) for name in files_of(recording))
    assert public_audio(audio_published) == heard


def test_asking_twice_keeps_one_removal_waiting(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    first = request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    again = request_removal(
        audio_published, by=second_editor, capture=django_capture_on_commit_callbacks
    )
    assert again.pk == first.pk and again.uploaded_by == editor
    assert PendingRecording.objects.count() == 1


def test_a_removal_replaces_a_new_recording_waiting_and_its_files_go_after_commit(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=second_editor, upload=upload("flac"))
    new = PendingRecording.objects.get()
    assert new.is_ready and not new.removal
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.remove_recording(audio_published, actor=editor)
    assert all(default_storage.exists(name) for name in files_of(new))  # not before commit
    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in files_of(new))
    waiting = PendingRecording.objects.get()
    assert waiting.removal and waiting.uploaded_by == editor
    assert Recording.objects.exists()


def test_a_new_upload_replaces_a_removal_waiting(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=second_editor, upload=upload("flac"))
    waiting = PendingRecording.objects.get()
    assert not waiting.removal and waiting.is_ready
    assert waiting.uploaded_by == second_editor
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(audio_published, actor=editor, seen=name_of(waiting.mp3))
    assert Recording.objects.get().mp3 == waiting.mp3


def test_a_removal_the_reviewer_saw_cannot_approve_the_recording_that_replaced_it(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=second_editor, capture=django_capture_on_commit_callbacks)
    seen = services.pending_recording_token(PendingRecording.objects.get())
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=second_editor, upload=upload("flac"))
    with pytest.raises(services.BulletinError, match="recording changed since"):
        services.approve_recording(audio_published, actor=editor, seen=seen)
    assert Recording.objects.exists() and PendingRecording.objects.exists()


def test_a_recording_the_reviewer_heard_cannot_approve_the_removal_that_replaced_it(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=second_editor, upload=upload("flac"))
    heard = services.pending_recording_token(PendingRecording.objects.get())
    request_removal(audio_published, by=second_editor, capture=django_capture_on_commit_callbacks)
    with pytest.raises(services.BulletinError, match="recording changed since"):
        services.approve_recording(audio_published, actor=editor, seen=heard)
    assert Recording.objects.exists()


def test_a_draft_s_recording_is_removed_at_once(
    audio_draft, editor, django_capture_on_commit_callbacks
):
    recording = Recording.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_recording(audio_draft, actor=editor) is None
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()
    assert not any(default_storage.exists(name) for name in files_of(recording))


def test_a_bulletin_in_review_loses_its_recording_at_once_too(
    audio_draft, editor, django_capture_on_commit_callbacks
):
    services.submit(audio_draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_recording(audio_draft, actor=editor) is None
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()


def test_a_removal_waiting_is_counted_for_the_second_editor_only(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    before = services.newsroom_waiting(second_editor)["waiting"]
    waiting = request_removal(
        audio_published, by=editor, capture=django_capture_on_commit_callbacks
    )
    found = services.newsroom_waiting(second_editor)
    assert found["waiting"] == before + 1 and found["since"] == waiting.uploaded_at
    assert services.newsroom_waiting(editor)["waiting"] == 0


def test_the_sweep_never_processes_a_removal(
    audio_published, editor, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    assert services.requeue_recordings(now=timezone.now() + timedelta(hours=2)) == 0
    assert PendingRecording.objects.get().status == PendingRecording.Status.READY


# --- the editor page ------------------------------------------------------------------------


def test_the_editor_page_asks_reviews_and_approves_a_removal(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    url = f"/en/bulletins/editor/{audio_published.slug}/"
    asker = signed_in(editor)
    page = soup(asker.get(url))
    button = page.select_one(".remove-recording-form button")
    assert "Ask to remove" in button.get_text()
    with django_capture_on_commit_callbacks(execute=True):
        response = asker.post(url + "recording/", {"remove": "1", "language": "en"}, follow=True)
    assert response.status_code == 200
    said = soup(response).select_one(".messages").get_text()
    assert "waits for a second editor" in said and "Listeners keep the recording" in said
    assert Recording.objects.exists()
    # The one who asked is offered no approval, and no second "remove" button.
    page = soup(asker.get(url))
    assert page.select_one(".pending-removal")
    assert page.select_one(".pending-removal .approve-recording-form") is None
    assert page.select_one(".remove-recording-form") is None
    # The second editor is, and the form names what they read.
    reviewer = signed_in(second_editor)
    page = soup(reviewer.get(url))
    form = page.select_one(".pending-removal .approve-recording-form")
    assert form.select_one("audio") is None
    seen = form.select_one("input[name=seen]")["value"]
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(url + "approve-recording/", {"seen": seen}, follow=True)
    assert "recording is offline" in soup(response).select_one(".messages").get_text()
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()
    assert public_audio(audio_published) == set()


def test_the_editor_page_refuses_a_removal(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    client = signed_in(second_editor)
    url = f"/en/bulletins/editor/{audio_published.slug}/"
    assert soup(client.get(url)).select_one(".pending-removal .discard-recording-form")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "discard-recording/", follow=True)
    assert "the recording stays" in soup(response).select_one(".messages").get_text()
    assert Recording.objects.exists() and not PendingRecording.objects.exists()


def test_a_draft_s_editor_page_removes_at_once(
    audio_draft, editor, django_capture_on_commit_callbacks
):
    client = signed_in(editor)
    url = f"/en/bulletins/editor/{audio_draft.slug}/"
    button = soup(client.get(url)).select_one(".remove-recording-form button")
    assert button.get_text() == "Remove the recording"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "recording/", {"remove": "1"}, follow=True)
    assert "The recording is removed." in soup(response).select_one(".messages").get_text()
    assert not Recording.objects.exists()


def test_a_removal_asked_before_unpublishing_is_done_when_the_draft_loses_its_recording(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    request_removal(audio_published, by=editor, capture=django_capture_on_commit_callbacks)
    services.send_back(audio_published, actor=second_editor)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_recording(audio_published, actor=editor) is None
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()
