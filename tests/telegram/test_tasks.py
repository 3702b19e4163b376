"""The worker's tasks: a nudge that finds nothing left is cheap, and the sweep drains a
backlog whose nudges were lost, page after page, without handling anything twice."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from krov.core import leases
from krov.telegram import intake, services, tasks
from krov.telegram.models import Chat, Update
from tests.telegram.conftest import fixture

pytestmark = pytest.mark.django_db

CHATS = 7


@pytest.fixture
def lost_nudges(monkeypatch):
    """The queue lost every nudge (Redis restarted): only the sweep finds the updates."""
    monkeypatch.setattr(intake, "nudge", lambda key: None)


def backlog(chats: int = CHATS) -> list[str]:
    """Each chat's /start, stored and waiting; their chat keys."""
    for n in range(chats):
        update = fixture("message_start")
        update["update_id"] = 810000000 + n
        update["message"]["message_id"] = n + 1
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = 66600 + n
        assert intake.store(update)
    return [services.chat_key(66600 + n) for n in range(chats)]


def pending() -> int:
    return Update.objects.filter(status=Update.Status.PENDING).count()


def test_the_sweep_drains_a_backlog_of_more_than_one_page(lost_nudges, monkeypatch, fake_api):
    monkeypatch.setattr(tasks, "SWEEP_PAGE", 2)
    backlog()
    assert pending() == CHATS
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=31)):
        tasks.sweep()
    assert pending() == 0
    assert Update.objects.filter(status=Update.Status.DONE).count() == CHATS
    assert set(Chat.objects.values_list("state", flat=True)) == {Chat.State.LANGUAGE}
    inboxes = fake_api.state.chats
    assert sorted(len(inboxes[str(66600 + n)]) for n in range(CHATS)) == [1] * CHATS  # once


def test_the_sweep_leaves_fresh_updates_to_their_nudges(lost_nudges):
    backlog(2)
    tasks.sweep()
    assert pending() == 2


def test_the_drain_skips_a_chat_another_worker_holds_and_stops(lost_nudges, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_PAGE", 2)
    keys = backlog(3)
    held = leases.Lease(tasks.chat_lease(keys[1]), 60)
    cache.add(held.key, held.token, timeout=60)  # that worker is processing this chat
    try:
        assert tasks.drain(older_than_seconds=0) == 2
    finally:
        cache.delete(held.key)
    assert list(
        Update.objects.filter(status=Update.Status.PENDING).values_list("chat_key", flat=True)
    ) == [keys[1]]


def test_the_drain_stops_when_its_time_is_spent(lost_nudges):
    backlog(3)
    assert tasks.drain(budget_seconds=0, older_than_seconds=0) == 0
    assert pending() == 3


def test_a_chat_that_fails_is_left_to_the_next_sweep(lost_nudges, monkeypatch):
    from krov.telegram import dialogue

    keys = backlog(2)
    real = dialogue.handle

    def broken_for_one(update, **kwargs):
        if kwargs.get("chat_key") == keys[0]:
            raise RuntimeError("a bug in the dialogue")
        return real(update, **kwargs)

    monkeypatch.setattr(dialogue, "handle", broken_for_one)
    assert tasks.drain(older_than_seconds=0) == 1
    failed = Update.objects.get(chat_key=keys[0])
    assert (failed.status, failed.attempts) == (Update.Status.PENDING, 1)  # tried once


def test_a_nudge_that_finds_nothing_pending_takes_no_lease_in_one_query(
    lost_nudges, monkeypatch, django_assert_max_num_queries
):
    backlog(1)
    assert tasks.process_chat.call_local(810000000) == 1  # the nudge of the chat's update

    def no_lease(*args, **kwargs):
        raise AssertionError("a lease was taken")

    monkeypatch.setattr(leases, "lease", no_lease)
    with django_assert_max_num_queries(1):
        assert tasks.process_chat.call_local(810000000) == 0  # a second one: nothing left
    with django_assert_max_num_queries(1):
        assert tasks.process_chat.call_local(123) == 0  # an update never stored


def test_a_nudge_whose_update_is_done_still_takes_the_chats_later_ones(lost_nudges):
    """The nudged update was processed by someone else (the sweep, a run that failed on the
    next one): the chat's updates after it, which the webhook nudged no further, go on."""
    (key,) = backlog(1)
    later = fixture("message_start")
    later["update_id"], later["message"]["message_id"] = 810000100, 100
    later["message"]["chat"]["id"] = later["message"]["from"]["id"] = 66600
    assert intake.store(later)
    Update.objects.filter(update_id=810000000).update(status=Update.Status.DONE)
    assert tasks.process_chat.call_local(810000000) == 1
    assert not Update.objects.filter(chat_key=key, status=Update.Status.PENDING).exists()
