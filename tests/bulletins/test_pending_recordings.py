"""Four eyes on the sound of a published bulletin: a new or replacing recording waits for a
second editor, as a text edit does. Listeners keep what they had until it is approved; the
reviewer listens to it on the editor page; a rejection deletes it (after the commit)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from krov.bulletins import services
from krov.bulletins.models import PendingRecording, Post, Recording
from tests.bulletins.audio_files import upload
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(editor):
    return services.create_post(
        actor=editor,
        language="en",
        title="Who the Russians in Belgrade are",
        summary="An answer to a tabloid.",
        body="The facts.",
        transcript="Good evening, this is Krov.",
    )


def _publish(post, *, author, approver, capture):
    services.submit(post, actor=author)
    with capture(execute=True):
        services.approve(post, actor=approver)
    return Post.objects.get(pk=post.pk)


@pytest.fixture
def published_text_only(draft, editor, second_editor, django_capture_on_commit_callbacks):
    return _publish(
        draft, author=editor, approver=second_editor, capture=django_capture_on_commit_callbacks
    )


@pytest.fixture
def published_with_audio(draft, editor, second_editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(draft, actor=editor, upload=upload("wav", seconds=2.0))
    return _publish(
        draft, author=editor, approver=second_editor, capture=django_capture_on_commit_callbacks
    )


@pytest.fixture
def upload_new(editor, django_capture_on_commit_callbacks):
    """A recording uploaded by `editor` (or `by`) on a published bulletin; the worker
    (immediate in tests) processes it once the upload commits."""

    def _upload(post, *, by=None, seconds=3.0) -> PendingRecording:
        with django_capture_on_commit_callbacks(execute=True):
            attached = services.attach_recording(
                post, actor=by or editor, upload=upload("flac", seconds=seconds)
            )
        assert isinstance(attached, PendingRecording)
        return PendingRecording.objects.get(pk=attached.pk)

    return _upload


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


def test_a_first_recording_of_a_published_bulletin_is_not_public_until_approved(
    published_text_only, upload_new
):
    pending = upload_new(published_text_only)
    assert pending.status == PendingRecording.Status.READY  # processed for the reviewer
    assert not Recording.objects.exists()
    assert services.playable(Post.objects.get(pk=published_text_only.pk)) is None
    assert public_audio(published_text_only) == set()
    assert podcast_enclosures() == []
    for stored in (pending.mp3, pending.opus):
        url = f"/en/bulletins/{published_text_only.slug}/audio/{name_of(stored)}"
        assert Client().get(url).status_code == 404


def test_a_replacing_recording_waits_and_the_old_one_stays_public(published_with_audio, upload_new):
    before = Recording.objects.get()
    heard = public_audio(published_with_audio)
    pending = upload_new(published_with_audio)
    assert pending.is_ready and pending.mp3 != before.mp3
    after = Recording.objects.get()
    assert (after.mp3, after.opus, after.duration_ms) == (before.mp3, before.opus, 2000)
    assert public_audio(published_with_audio) == heard
    assert all(name_of(before.mp3) in url or ".opus" in url for url in heard)
    assert [name_of(url) for url in podcast_enclosures()] == [name_of(before.mp3)]
    url = f"/en/bulletins/{published_with_audio.slug}/audio/{name_of(pending.mp3)}"
    assert Client().get(url).status_code == 404
    assert default_storage.exists(before.mp3) and default_storage.exists(pending.mp3)


def test_the_reviewer_listens_to_the_waiting_recording_on_the_editor_page(
    published_with_audio, upload_new, second_editor, personas
):
    pending = upload_new(published_with_audio)
    client = signed_in(second_editor)
    page = soup(client.get(f"/en/bulletins/editor/{published_with_audio.slug}/"))
    section = page.select_one(".pending-recording")
    assert section.select_one(".pending-recording-status").get_text() == "Ready"
    sources = {s["type"]: s["src"] for s in section.select("audio source")}
    assert set(sources) == {"audio/ogg; codecs=opus", "audio/mpeg"}
    assert section.select_one(".approve-recording-form")
    response = client.get(sources["audio/mpeg"], HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert response["Cache-Control"] == "private, no-store"
    with default_storage.open(pending.mp3, "rb") as handle:
        assert b"".join(response.streaming_content) == handle.read(100)
    # Nobody else hears it: not a reader, not a member.
    assert Client().get(sources["audio/mpeg"]).status_code == 302  # to the sign-in page
    assert signed_in(personas["member"].user).get(sources["audio/mpeg"]).status_code == 403


def test_the_uploader_is_offered_no_approval_on_the_editor_page(published_with_audio, upload_new):
    pending = upload_new(published_with_audio)
    page = soup(
        signed_in(pending.uploaded_by).get(f"/en/bulletins/editor/{published_with_audio.slug}/")
    )
    assert page.select_one(".pending-recording")
    assert page.select_one(".approve-recording-form") is None


def test_approval_by_a_second_editor_swaps_the_recording_and_deletes_the_old_files_after_commit(
    published_with_audio, upload_new, second_editor, django_capture_on_commit_callbacks
):
    before = Recording.objects.get()
    pending = upload_new(published_with_audio)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.approve_recording(
            published_with_audio, actor=second_editor, seen=name_of(pending.mp3)
        )
    # Not deleted before the commit...
    assert default_storage.exists(before.mp3) and default_storage.exists(before.opus)
    for callback in callbacks:
        callback()
    # ...and after it.
    assert not default_storage.exists(before.mp3) and not default_storage.exists(before.opus)
    after = Recording.objects.get()
    assert (after.mp3, after.opus) == (pending.mp3, pending.opus)
    assert after.duration_ms == pending.duration_ms == 3000
    assert after.status == Recording.Status.READY
    assert default_storage.exists(after.mp3) and default_storage.exists(after.opus)
    assert not PendingRecording.objects.exists()
    assert any(name_of(after.mp3) in url for url in public_audio(published_with_audio))
    assert [name_of(url) for url in podcast_enclosures()] == [name_of(after.mp3)]
    assert Post.objects.get(pk=published_with_audio.pk).approved_by == second_editor


def test_approving_a_first_recording_makes_the_bulletin_an_episode(
    published_text_only, upload_new, second_editor, django_capture_on_commit_callbacks
):
    pending = upload_new(published_text_only)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(published_text_only, actor=second_editor)
    assert Recording.objects.get(post=published_text_only).mp3 == pending.mp3
    assert [name_of(url) for url in podcast_enclosures()] == [name_of(pending.mp3)]


def test_rejection_discards_the_waiting_recording_and_its_files_after_commit(
    published_with_audio, upload_new, second_editor, django_capture_on_commit_callbacks
):
    before = Recording.objects.get()
    heard = public_audio(published_with_audio)
    pending = upload_new(published_with_audio)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.discard_recording(published_with_audio, actor=second_editor)
    assert not PendingRecording.objects.exists()
    assert default_storage.exists(pending.mp3) and default_storage.exists(pending.opus)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(pending.mp3) and not default_storage.exists(pending.opus)
    assert Recording.objects.get().mp3 == before.mp3
    assert default_storage.exists(before.mp3)
    assert public_audio(published_with_audio) == heard


def test_the_uploader_cannot_approve_their_own_recording(published_with_audio, upload_new, editor):
    upload_new(published_with_audio, by=editor)
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve_recording(published_with_audio, actor=editor)
    assert PendingRecording.objects.exists()


def test_the_author_may_approve_a_recording_someone_else_uploaded(
    published_with_audio, upload_new, editor, second_editor, django_capture_on_commit_callbacks
):
    pending = upload_new(published_with_audio, by=second_editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(published_with_audio, actor=editor)
    assert Recording.objects.get().mp3 == pending.mp3


def test_self_approval_only_when_the_setting_allows_it(
    published_with_audio, upload_new, editor, settings, django_capture_on_commit_callbacks
):
    pending = upload_new(published_with_audio, by=editor)
    settings.KROV_BULLETINS_SELF_APPROVAL = False
    assert not services.may_approve_recording(published_with_audio, editor)
    settings.KROV_BULLETINS_SELF_APPROVAL = True
    assert services.may_approve_recording(published_with_audio, editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(published_with_audio, actor=editor)
    assert Recording.objects.get().mp3 == pending.mp3


def test_a_recording_replaced_since_the_page_was_opened_cannot_be_approved_unheard(
    published_with_audio, upload_new, second_editor
):
    first = upload_new(published_with_audio)
    upload_new(published_with_audio)  # replaced before anyone approved the first
    with pytest.raises(services.BulletinError, match="changed since"):
        services.approve_recording(
            published_with_audio, actor=second_editor, seen=name_of(first.mp3)
        )
    assert not default_storage.exists(first.mp3)  # the replaced waiting files are gone


def test_a_recording_not_processed_yet_cannot_be_approved(
    published_with_audio, editor, second_editor
):
    # Uploaded, the worker's nudge not run (no commit callbacks).
    services.attach_recording(published_with_audio, actor=editor, upload=upload("wav"))
    with pytest.raises(services.BulletinError, match="not ready"):
        services.approve_recording(published_with_audio, actor=second_editor)


def test_only_editors_who_may_publish_approve_or_discard(
    published_with_audio, upload_new, personas
):
    upload_new(published_with_audio)
    member = personas["member"].user
    with pytest.raises(services.BulletinError):
        services.approve_recording(published_with_audio, actor=member)
    with pytest.raises(services.BulletinError):
        services.discard_recording(published_with_audio, actor=member)
    assert PendingRecording.objects.exists()


def test_a_draft_s_recording_needs_no_second_approval_of_its_own_and_is_never_public(
    draft, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attached = services.attach_recording(draft, actor=editor, upload=upload("wav"))
    assert isinstance(attached, Recording)
    recording = Recording.objects.get()
    assert recording.is_ready and not PendingRecording.objects.exists()
    for stored in (recording.mp3, recording.opus):
        assert (
            Client().get(f"/en/bulletins/{draft.slug}/audio/{name_of(stored)}").status_code == 404
        )
    assert Client().get(f"/en/bulletins/{draft.slug}/").status_code == 404


def test_a_second_editor_uploading_to_a_bulletin_in_review_may_not_approve_it(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(draft, actor=second_editor, upload=upload("wav"))
    assert not services.may_approve(Post.objects.get(pk=draft.pk), second_editor)


def test_the_editor_page_approves_and_discards_through_the_workflow(
    published_with_audio, upload_new, second_editor, django_capture_on_commit_callbacks
):
    pending = upload_new(published_with_audio)
    client = signed_in(second_editor)
    url = f"/en/bulletins/editor/{published_with_audio.slug}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "approve-recording/", {"seen": name_of(pending.mp3)})
    assert response.status_code == 302
    assert Recording.objects.get().mp3 == pending.mp3
    again = upload_new(published_with_audio)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url + "discard-recording/")
    assert not PendingRecording.objects.exists()
    assert not default_storage.exists(again.mp3)


def test_the_upload_form_on_a_published_bulletin_says_it_waits(
    published_with_audio, editor, django_capture_on_commit_callbacks
):
    client = signed_in(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/bulletins/editor/{published_with_audio.slug}/recording/",
            {"recording": upload("wav")},
            follow=True,
        )
    assert response.status_code == 200
    assert "waits for a second editor" in soup(response).select_one(".messages").get_text()
    assert PendingRecording.objects.get().is_ready


def test_a_waiting_recording_counts_on_the_second_editor_s_home_only(
    published_with_audio, upload_new, editor, second_editor
):
    before = services.newsroom_waiting(second_editor)["waiting"]
    pending = upload_new(published_with_audio, by=editor)
    assert services.newsroom_waiting(second_editor)["waiting"] == before + 1
    assert services.newsroom_waiting(second_editor)["since"] == pending.uploaded_at
    assert services.newsroom_waiting(editor)["waiting"] == 0


def test_the_sweep_processes_a_waiting_recording_whose_nudge_was_lost(
    published_with_audio, editor, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    services.attach_recording(published_with_audio, actor=editor, upload=upload("wav"))
    pending = PendingRecording.objects.get()
    assert pending.status == PendingRecording.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_recordings(now=timezone.now() + timedelta(minutes=10)) == 1
    assert PendingRecording.objects.get().is_ready


def test_a_recording_changed_after_the_reviewer_opened_a_bulletin_in_review_is_not_approved(
    draft, editor, second_editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(draft, actor=editor, upload=upload("wav"))
    services.submit(draft, actor=editor)
    seen = services.fingerprint(draft)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(draft, actor=editor, upload=upload("flac"))
    with pytest.raises(services.BulletinError, match="changed since"):
        services.approve(draft, actor=second_editor, seen=seen)
    assert Post.objects.get(pk=draft.pk).status == Post.Status.REVIEW


def test_processing_does_not_change_what_the_reviewer_approves(draft, editor):
    services.attach_recording(draft, actor=editor, upload=upload("wav"))  # not processed
    seen = services.fingerprint(draft)
    services.process_recording(Recording.objects.get().pk)
    assert services.fingerprint(draft) == seen


@pytest.fixture
def fake_bot(settings):
    from krov.telegram.fake import FakeBotAPI

    api = FakeBotAPI().start()
    settings.TELEGRAM_BOT_TOKEN = api.token
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    yield api
    api.stop()


def test_an_approved_first_recording_goes_to_the_channel_as_audio_a_replacement_does_not(
    fake_bot, published_text_only, upload_new, second_editor, django_capture_on_commit_callbacks
):
    from krov.telegram.models import Outbound

    assert [row.method for row in Outbound.objects.all()] == ["send_message"]  # the text
    upload_new(published_text_only)
    assert Outbound.objects.count() == 1  # nothing goes out before the approval
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(published_text_only, actor=second_editor)
    assert [row.method for row in Outbound.objects.order_by("id")] == [
        "send_message",
        "send_audio",
    ]
    upload_new(published_text_only)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(published_text_only, actor=second_editor)
    assert Outbound.objects.count() == 2
