"""The weekly digest: every editor hears what the press wrote about us, in their own
language and script, once a week however often the task runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail

from krov.accounts import services as accounts
from krov.press import parsing, services, tasks

pytestmark = pytest.mark.django_db


def _speaks(user, language: str) -> None:
    accounts.update_settings(
        user,
        pseudonym=user.pseudonym,
        language=language,
        notification_channel="email",
        actor=user,
    )


def test_each_editor_gets_the_digest_in_their_script_once_a_week(
    editor, second_editor, django_capture_on_commit_callbacks
):
    _speaks(editor, "sr")
    _speaks(second_editor, "sr-latn")
    vesti = services.add_source("https://vesti.example/rss", name="Vesti", language="sr")
    entry = parsing.Entry(
        guid="1",
        link="https://vesti.example/1",
        title="Rusi kupuju stanove",
        summary="",
        published_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    services.store_entries(vesti, [entry])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_weekly_digest() == 2
    with django_capture_on_commit_callbacks(execute=True):
        tasks.weekly_digest.call_local()  # the same week: nobody hears twice
    by_address = {message.to[0]: message for message in mail.outbox}
    assert len(mail.outbox) == 2
    assert "- Руси купују станове" in by_address[editor.email].body
    assert "/sr/press/" in by_address[editor.email].body
    assert "- Rusi kupuju stanove" in by_address[second_editor.email].body
    assert "/sr-latn/press/" in by_address[second_editor.email].body


def test_no_digest_when_nothing_matched(editor):
    assert services.send_weekly_digest() == 0
    assert mail.outbox == []
