from __future__ import annotations

import pytest

from krov.accounts import services as account_services
from krov.bulletins import services


@pytest.fixture
def editor(personas):
    return personas["editor"].user


@pytest.fixture
def second_editor(db):
    return account_services.create_account(
        email="editor2@example.org", pseudonym="Pero2", password=None, roles=["editor"]
    )


@pytest.fixture
def publish(editor, second_editor, django_capture_on_commit_callbacks):
    """A bulletin written by `editor` and approved by a second editor (committed, so the
    page cache is invalidated as in production)."""

    def _publish(title="Ratni zločini i istina", *, language="sr-latn", body=None, tags=("rat",)):
        post = services.create_post(
            actor=editor,
            language=language,
            title=title,
            summary="Kratak pregled",
            body=body or "Dijaspora protiv rata piše **istinu**.",
            tags=list(tags),
        )
        services.submit(post, actor=editor)
        with django_capture_on_commit_callbacks(execute=True):
            services.approve(post, actor=second_editor)
        post.refresh_from_db()
        return post

    return _publish


# --- recordings (tests/bulletins/test_recording_removal.py, test_files_on_delete.py, ...) ---


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files (recordings, covers) in a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def audio_draft(editor, media_root, django_capture_on_commit_callbacks):
    """A draft by `editor` with a processed recording (the worker is immediate in tests)."""
    from krov.bulletins.models import Post
    from tests.bulletins.audio_files import upload

    post = services.create_post(
        actor=editor,
        language="en",
        title="Who the Russians in Belgrade are",
        summary="An answer to a tabloid.",
        body="The facts.",
        transcript="Good evening, this is Krov.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(post, actor=editor, upload=upload("wav", seconds=2.0))
    return Post.objects.get(pk=post.pk)


@pytest.fixture
def audio_published(audio_draft, editor, second_editor, django_capture_on_commit_callbacks):
    """`audio_draft`, approved by `second_editor` and published with its recording."""
    from krov.bulletins.models import Post

    services.submit(audio_draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(audio_draft, actor=second_editor)
    return Post.objects.get(pk=audio_draft.pk)
