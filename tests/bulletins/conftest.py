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
