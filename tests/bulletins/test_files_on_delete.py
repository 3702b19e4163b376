"""A deleted bulletin leaves no files behind: its recording's files, a recording waiting for
approval and its cover go once the deletion commits, and stay when it is rolled back (the
rows are back, and point at files that still exist). However the bulletin is deleted: the
files follow the rows (krov.bulletins.signals)."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from krov.bulletins import services
from krov.bulletins.models import PendingRecording, Post, Recording
from tests.bulletins.audio_files import upload

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def picture() -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile("cover.png", out.getvalue(), "image/png")


@pytest.fixture
def stored_files(audio_published, editor, django_capture_on_commit_callbacks) -> list[str]:
    """Every file `audio_published` has: its recording, a new recording waiting for
    approval, and a cover."""
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=editor, upload=upload("flac"))
        services.set_cover(audio_published, actor=editor, upload=picture())
    recording, waiting = Recording.objects.get(), PendingRecording.objects.get()
    cover = Post.objects.get(pk=audio_published.pk).cover
    names = [recording.opus, recording.mp3, waiting.opus, waiting.mp3, cover]
    assert all(names) and all(default_storage.exists(name) for name in names)
    return names


def test_deleting_a_bulletin_deletes_its_files_after_the_commit_not_before(
    audio_published, stored_files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Post.objects.get(pk=audio_published.pk).delete()
    assert not Recording.objects.exists() and not PendingRecording.objects.exists()
    assert all(default_storage.exists(name) for name in stored_files)  # not before the commit
    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in stored_files)


def test_a_rolled_back_deletion_keeps_the_bulletin_s_files(
    audio_published, stored_files, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        Post.objects.filter(pk=audio_published.pk).delete()
        raise Rollback
    assert callbacks == []
    assert Post.objects.filter(pk=audio_published.pk).exists()
    assert all(default_storage.exists(name) for name in stored_files)


def test_deleting_a_draft_with_a_recording_not_processed_yet_deletes_the_upload(
    editor, media_root, django_capture_on_commit_callbacks
):
    post = services.create_post(actor=editor, language="en", title="Draft", body="Text.")
    services.attach_recording(post, actor=editor, upload=upload("wav"))  # nudge not run
    original = Recording.objects.get().original
    assert default_storage.exists(original)
    with django_capture_on_commit_callbacks(execute=True):
        post.delete()
    assert not default_storage.exists(original)


def test_approving_a_waiting_recording_keeps_the_files_it_hands_to_the_bulletin(
    audio_published, editor, second_editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(audio_published, actor=editor, upload=upload("flac"))
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_recording(audio_published, actor=second_editor)
    recording = Recording.objects.get()
    assert default_storage.exists(recording.mp3) and default_storage.exists(recording.opus)


@pytest.mark.django_db(transaction=True)
def test_files_go_after_a_real_commit_and_stay_after_a_real_rollback(
    editor, second_editor, media_root
):
    """The same, with real transactions (no captured callbacks): what production does."""
    post = services.create_post(actor=editor, language="en", title="Audio", body="Text.")
    services.attach_recording(post, actor=editor, upload=upload("wav"))  # processed on commit
    services.set_cover(post, actor=editor, upload=picture())
    recording = Recording.objects.get()
    names = [recording.opus, recording.mp3, Post.objects.get(pk=post.pk).cover]
    assert all(names) and all(default_storage.exists(name) for name in names)

    with pytest.raises(Rollback), transaction.atomic():
        Post.objects.get(pk=post.pk).delete()
        raise Rollback
    assert Recording.objects.filter(pk=recording.pk).exists()
    assert all(default_storage.exists(name) for name in names)

    with transaction.atomic():
        Post.objects.get(pk=post.pk).delete()
        assert all(default_storage.exists(name) for name in names)  # still inside
    assert not any(default_storage.exists(name) for name in names)
