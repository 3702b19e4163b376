"""Rejecting a directory proposal can be undone for a while (krov.core.undo,
"directory.reject"): the proposer is told only once the undo window has passed, by a task
(and a periodic sweep), so an undone rejection never reaches them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from krov.core.models import Notification
from krov.core.undo import UNDO_SECONDS
from krov.directory import services
from krov.directory.models import Proposal
from tests.directory.test_directory import LEGAL
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

REVIEW = "/en/directory/review/"


@pytest.fixture
def member(personas):
    return personas["member"].user


@pytest.fixture
def reviewer(personas):
    return personas["organiser"].user


def reject_over_http(client, proposal):
    form = {"proposal": proposal.pk, "decision": "reject", "reason": "Not in Serbia"}
    return client.post(REVIEW, {**form, "confirm": "yes"}, follow=True)


def told(member) -> list:
    return [m for m in mail.outbox if m.to == [member.email]]


def test_an_undone_rejection_goes_back_to_review_and_never_reaches_the_proposer(
    member, reviewer, django_capture_on_commit_callbacks
):
    proposal = services.propose(actor=member, data=LEGAL)
    client = signed_in(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = reject_over_http(client, proposal)
    assert "in five minutes" in soup(response).select_one(".messages").get_text()
    assert Proposal.objects.get().status == Proposal.Status.REJECTED
    assert not Notification.objects.filter(recipient=member).exists()

    token = soup(response).select_one("form.undo input[name=token]")["value"]
    undone = client.post("/en/undo/", {"token": token, "next": REVIEW}, follow=True)

    assert "back in the review queue" in soup(undone).select_one(".messages").get_text()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason, proposal.reviewed_by) == ("pending", "", None)
    assert soup(undone).select("li.proposal")  # listed for review again
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_rejected(now=timezone.now() + timedelta(hours=1)) == 0
    assert told(member) == []


def test_the_proposer_is_told_once_after_the_undo_window_and_then_undo_is_refused(
    member, reviewer, django_capture_on_commit_callbacks
):
    proposal = services.propose(actor=member, data=LEGAL)
    client = signed_in(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = reject_over_http(client, proposal)
    token = soup(response).select_one("form.undo input[name=token]")["value"]

    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_rejected(proposal.pk) == 0  # still inside the window
    assert told(member) == []
    later = timezone.now() + timedelta(seconds=UNDO_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_rejected(proposal.pk, now=later) == 1
        assert services.tell_rejected(now=later) == 0  # the sweep does not tell twice
    assert len(told(member)) == 1 and "Not in Serbia" in told(member)[0].body

    with time_machine.travel(timezone.now() + timedelta(seconds=UNDO_SECONDS - 5)):
        undone = client.post("/en/undo/", {"token": token, "next": REVIEW}, follow=True)
    assert "already told" in soup(undone).select_one(".messages").get_text()
    assert Proposal.objects.get().status == Proposal.Status.REJECTED


def test_the_rejection_task_tells_the_proposer_when_the_window_has_passed(
    member, reviewer, django_capture_on_commit_callbacks
):
    from krov.directory import tasks

    proposal = services.propose(actor=member, data=LEGAL)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject(proposal, actor=reviewer, reason="Not in Serbia")
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=UNDO_SECONDS + 1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.tell_rejected_proposer.call_local(proposal.pk)
    assert len(told(member)) == 1
    assert Proposal.objects.get().told_at is not None


def test_someone_who_is_not_a_reviewer_cannot_undo_a_rejection(member, reviewer):
    from krov.core.undo import UndoError

    proposal = services.propose(actor=member, data=LEGAL)
    services.reject(proposal, actor=reviewer, reason="Not in Serbia")
    with pytest.raises(UndoError):
        services.undo_reject({"proposal": proposal.pk}, actor=member)
    assert Proposal.objects.get().status == Proposal.Status.REJECTED


def test_an_approval_tells_the_proposer_at_once(
    member, reviewer, django_capture_on_commit_callbacks
):
    proposal = services.propose(actor=member, data=LEGAL)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(proposal, actor=reviewer)
    assert len(told(member)) == 1
    assert Proposal.objects.get().told_at is not None


def test_proposals_reviewed_before_the_delay_count_as_told_so_nobody_hears_twice(
    member, reviewer, django_capture_on_commit_callbacks
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "krov.directory.migrations.0004_proposals_reviewed_before_were_told"
    )
    rejected = services.propose(actor=member, data=LEGAL)
    services.reject(rejected, actor=reviewer, reason="Not in Serbia")
    waiting = services.propose(actor=member, data={**LEGAL, "name": "Kuća"})
    Proposal.objects.filter(pk=rejected.pk).update(told_at=None)  # as before the field

    migration.mark_told(apps, None)

    rejected.refresh_from_db()
    assert rejected.told_at == rejected.reviewed_at
    assert Proposal.objects.get(pk=waiting.pk).told_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_rejected(now=timezone.now() + timedelta(hours=1)) == 0
    assert told(member) == []
