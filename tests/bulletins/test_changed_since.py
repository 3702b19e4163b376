"""An approval refused because the bulletin changed after the reviewer opened it says what
changed: the text, the recording, or both (so the reviewer knows to read, or to listen)."""

from __future__ import annotations

import pytest

from krov.bulletins import services
from krov.bulletins.models import Post, Recording
from tests.bulletins.audio_files import upload
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

RECORDING_CHANGED = "The recording changed since you opened the page"
TEXT_CHANGED = "The text changed since you opened it"
BOTH_CHANGED = "The text and the recording changed since you opened the page"


@pytest.fixture
def in_review(audio_draft, editor):
    services.submit(audio_draft, actor=editor)
    return Post.objects.get(pk=audio_draft.pk)


def refusal(post, *, actor, seen) -> str:
    with pytest.raises(services.BulletinError) as refused:
        services.approve(post, actor=actor, seen=seen)
    return str(refused.value)


def test_a_replaced_recording_is_named_as_what_changed(
    in_review, editor, second_editor, django_capture_on_commit_callbacks
):
    seen = services.fingerprint(in_review)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(in_review, actor=editor, upload=upload("flac"))
    message = refusal(in_review, actor=second_editor, seen=seen)
    assert message.startswith(RECORDING_CHANGED) and "text" not in message
    assert Post.objects.get(pk=in_review.pk).status == Post.Status.REVIEW


def test_a_removed_recording_is_named_as_what_changed(
    in_review, editor, second_editor, django_capture_on_commit_callbacks
):
    seen = services.fingerprint(in_review)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_recording(in_review, actor=editor)
    assert refusal(in_review, actor=second_editor, seen=seen).startswith(RECORDING_CHANGED)


def test_changed_text_is_named_as_what_changed(in_review, editor, second_editor):
    seen = services.fingerprint(in_review)
    services.write(in_review, actor=editor, language="en", title="Facts", body="Other facts.")
    assert refusal(in_review, actor=second_editor, seen=seen).startswith(TEXT_CHANGED)


def test_both_changed_are_both_named(
    in_review, editor, second_editor, django_capture_on_commit_callbacks
):
    seen = services.fingerprint(in_review)
    services.write(in_review, actor=editor, language="en", title="Facts", body="Other facts.")
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(in_review, actor=editor, upload=upload("flac"))
    assert refusal(in_review, actor=second_editor, seen=seen).startswith(BOTH_CHANGED)


def test_a_fingerprint_of_another_form_is_refused_as_changed_text(in_review, second_editor):
    # A page opened before the fingerprint had two parts, or a forged value.
    assert refusal(in_review, actor=second_editor, seen="0" * 32).startswith(TEXT_CHANGED)


def test_processing_changes_neither_part(editor, media_root):
    post = services.create_post(actor=editor, language="en", title="Draft", body="Text.")
    services.attach_recording(post, actor=editor, upload=upload("wav"))  # not processed
    seen = services.fingerprint(post)
    services.process_recording(Recording.objects.get().pk)
    assert services.fingerprint(post) == seen


def test_the_editor_page_says_the_recording_changed(
    in_review, editor, second_editor, django_capture_on_commit_callbacks
):
    reviewer = signed_in(second_editor)
    url = f"/en/bulletins/editor/{in_review.slug}/"
    seen = soup(reviewer.get(url)).select_one(".approve-form input[name=seen]")["value"]
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(in_review, actor=editor, upload=upload("flac"))
    response = reviewer.post(url + "approve/", {"seen": seen}, follow=True)
    said = soup(response).select_one(".messages").get_text()
    assert RECORDING_CHANGED in said and TEXT_CHANGED not in said
    assert Post.objects.get(pk=in_review.pk).status == Post.Status.REVIEW
