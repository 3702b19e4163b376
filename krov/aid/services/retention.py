"""Purging closed cases: the text goes, a coarse anonymous record stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from krov.aid.models import (
    HelpRequest,
    Message,
    Note,
    Offer,
)
from krov.aid.services.base import Outcome, Status, _new_code, case_purged
from krov.aid.services.keys import destroy_case_keys
from krov.aid.services.relay import close_case
from krov.core import audit, notify
from krov.core.models import AuditEvent


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _coarse(moment: datetime | None, created: datetime, week: datetime) -> datetime | None:
    """`moment` moved with the case's start to its week, its distance rounded to the hour:
    the figures keep their durations, the record loses its dates."""
    if moment is None:
        return None
    hours = round((moment - created).total_seconds() / 3600)
    return week + timedelta(hours=max(0, hours))


def _purge_one(case: HelpRequest, *, now: datetime) -> None:
    """Remove everything about a case but an anonymous record, and every link to it.

    The case gets a new public id and code, so audit rows, notifications and anything a
    phone still shows ("K-…") point at nothing; its dates are coarsened to the week.
    """
    case = HelpRequest.objects.get(pk=case.pk)
    offers = Offer.objects.filter(request=case).values_list("public_id", flat=True)
    offer_ids = [str(public_id) for public_id in offers]
    notify.forget_references([str(case.public_id), *offer_ids])
    contact_in_use = bool(case.contact_lookup) and (
        HelpRequest.objects.filter(contact_lookup=case.contact_lookup, purged_at__isnull=True)
        .exclude(pk=case.pk)
        .exists()
    )
    # First, while the messages still exist: channels drop what they queued or sent for them.
    case_purged.send(sender=HelpRequest, case=case, contact_in_use=contact_in_use)
    # Crypto-shredding: every wrapped copy of the case key goes; what the rows below leave
    # behind in the WAL or a backup stays sealed to a key nobody holds once the team key
    # that wrapped it rotates (docs/threat-model.md).
    destroy_case_keys(case)
    Message.objects.filter(request=case).delete()
    Note.objects.filter(request=case).delete()
    Offer.objects.filter(request=case).delete()
    week = _week_start(case.created_at)
    HelpRequest.objects.filter(pk=case.pk).update(
        public_id=uuid.uuid4(),
        code=_new_code(),
        description="",
        region="",
        contact_handle="",
        contact_lookup="",
        notice_sealed={},
        notice_handed={},
        notice_due_at=None,
        noticed_at=None,
        notice_failures=0,
        requester_wrap="",
        token_hash=None,
        submission_hash=None,
        assignee=None,
        duplicate_of=None,
        alias="",
        created_at=week,
        triaged_at=_coarse(case.triaged_at, case.created_at, week),
        first_response_at=_coarse(case.first_response_at, case.created_at, week),
        last_activity_at=_coarse(case.last_activity_at, case.created_at, week),
        closed_at=_coarse(case.closed_at, case.created_at, week),
        purged_at=_week_start(now),
    )


def purge(now: datetime | None = None) -> dict[str, int]:
    """Apply retention: closed cases after KROV_RETENTION_DAYS, spam after
    KROV_SPAM_RETENTION_DAYS. Returns how many of each were purged."""
    now = now or timezone.now()
    closed_cutoff = now - timedelta(days=settings.KROV_RETENTION_DAYS)
    spam_cutoff = now - timedelta(days=settings.KROV_SPAM_RETENTION_DAYS)
    due = HelpRequest.objects.filter(purged_at__isnull=True).filter(
        Q(status=Status.CLOSED, closed_at__lte=closed_cutoff)
        | Q(status=Status.SPAM, last_activity_at__lte=spam_cutoff)
    )
    counts = {"closed": 0, "spam": 0}
    for case in due.only("pk", "status").iterator():
        with transaction.atomic():
            _purge_one(case, now=now)
        counts["spam" if case.status == Status.SPAM else "closed"] += 1
    if counts["closed"] or counts["spam"]:
        audit.record(AuditEvent.Kind.DATA_PURGED, closed=counts["closed"], spam=counts["spam"])
    return counts


@transaction.atomic
def forget(case: HelpRequest) -> None:
    """The requester asks for deletion: close the case and purge it now."""
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if case.is_open:
        close_case(case, actor=None, outcome=Outcome.REQUESTER_GONE)
        case.refresh_from_db()
    now = timezone.now()
    # Requests merged into this one were the same person's: they go too.
    for duplicate in HelpRequest.objects.filter(duplicate_of=case, purged_at__isnull=True):
        _purge_one(duplicate, now=now)
    _purge_one(case, now=now)
    audit.record(AuditEvent.Kind.DATA_PURGED, by="requester")  # no case id: it is gone
