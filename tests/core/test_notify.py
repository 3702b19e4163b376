"""krov.core.notify: the outbox stores first, delivers once, retries, sweeps and forgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from krov.core import notify
from krov.core.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(personas):
    return personas["member"].user


def test_a_notification_is_stored_and_sent_only_after_commit(
    member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = notify.notify(member, "test", subject="Hello", body="Something waits", link="/x/")
    assert Notification.objects.get(pk=note.pk).status == Notification.Status.PENDING
    assert not mail.outbox and len(callbacks) == 1
    callbacks[0]()
    [sent] = mail.outbox
    assert sent.to == [member.email] and sent.subject == "Hello"
    assert sent.body.endswith("/x/")  # the site's address in front of the path
    assert Notification.objects.get(pk=note.pk).status == Notification.Status.SENT


def test_delivering_twice_sends_once(member):
    note = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    assert notify.deliver(note.pk) is True
    assert notify.deliver(note.pk) is False
    assert len(mail.outbox) == 1


def test_a_failing_channel_is_retried_and_given_up_after_the_last_attempt(member, monkeypatch):
    def broken(notification):
        raise OSError("the mail server is down")

    monkeypatch.setattr(notify, "_send_email", broken)
    note = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    for _attempt in range(notify.MAX_ATTEMPTS):
        with pytest.raises(OSError):
            notify.deliver(note.pk)
    note.refresh_from_db()
    assert note.status == Notification.Status.FAILED and note.attempts == notify.MAX_ATTEMPTS
    assert notify.deliver(note.pk) is False  # no sixth try


def test_the_sweep_delivers_what_a_lost_nudge_left(member):
    fresh = Notification.objects.create(recipient=member, kind="t", subject="new", body="b")
    old = Notification.objects.create(
        recipient=member,
        kind="t",
        subject="old",
        body="b",
        created_at=timezone.now() - timedelta(minutes=5),
    )
    assert notify.sweep() == 1
    assert [m.subject for m in mail.outbox] == ["old"]
    assert Notification.objects.get(pk=fresh.pk).status == Notification.Status.PENDING
    assert Notification.objects.get(pk=old.pk).status == Notification.Status.SENT


def test_references_to_a_purged_case_are_forgotten(member):
    keep = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    gone = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", link="/en/aid/cases/abc-123/"
    )
    offer = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", ref="offer:def-456"
    )
    assert notify.forget_references(["abc-123", "def-456", ""]) == 2
    assert set(Notification.objects.values_list("pk", flat=True)) == {keep.pk}
    assert not Notification.objects.filter(pk__in=[gone.pk, offer.pk]).exists()


def test_delivered_notifications_go_after_a_week_failed_after_a_month(member):
    sent = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", status=Notification.Status.SENT
    )
    failed = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", status=Notification.Status.FAILED
    )
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert notify.purge_delivered() == 1
    assert not Notification.objects.filter(pk=sent.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert notify.purge_delivered() == 1
    assert not Notification.objects.filter(pk=failed.pk).exists()
