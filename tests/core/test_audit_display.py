"""The audit log as people read it: labels instead of stored codes, and "who opened this
case" as one row per person per few minutes (the log itself keeps every row)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from krov.accounts import roles
from krov.core import audit
from krov.core.models import AuditEvent
from tests.helpers import soup

pytestmark = pytest.mark.django_db


def test_kinds_and_detail_codes_are_shown_by_their_labels():
    assert audit.kind_label("housing_flagged") == "Housing: listing reported"
    assert audit.kind_label("something_retired") == "Something retired"
    assert audit.describe({"reason": "scam"}) == [("reason", "Looks like a scam")]
    assert audit.describe({"old": 0, "new": 1}) == [
        ("before", "On probation"),
        ("after", "Regular"),
    ]
    assert audit.describe({"via": "duress", "removed": True, "count": 1}) == [
        ("how", "the duress password"),
        ("removed", "yes"),
        ("how many", "1"),
    ]
    assert audit.describe({"role": "volunteer", "requested_by": "Ana"}) == [
        ("role", "Volunteer"),
        ("requested by", "Ana"),
    ]


def test_audit_log_page_shows_no_raw_codes(personas, login_as):
    reporter = personas[roles.MEMBER].user
    audit.record(AuditEvent.Kind.HOUSING_FLAGGED, actor=reporter, target="listing:1", reason="scam")
    page = soup(login_as(personas[roles.ADMIN]).get("/en/audit/"))
    row = next(tr for tr in page.select("tbody tr") if "Housing: listing reported" in tr.get_text())
    text = row.get_text(" ", strip=True)
    assert "reason: Looks like a scam" in text
    assert "housing_flagged" not in text and "scam:" not in text


def _opened(user, minutes_ago: float):
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago)):
        return audit.record(AuditEvent.Kind.CASE_ACCESSED, actor=user, target="case:x")


def test_repeated_openings_by_one_person_within_minutes_collapse_to_one_row(personas):
    volunteer = personas[roles.VOLUNTEER].user
    coordinator = personas[roles.COORDINATOR].user
    for minutes_ago in (0, 1, 2, 3, 40):
        _opened(volunteer, minutes_ago)
    _opened(coordinator, 2)
    runs = audit.collapse_repeats(
        AuditEvent.objects.filter(target="case:x"), within=timedelta(minutes=10)
    )
    assert [(run.event.actor_pseudonym, run.times) for run in runs] == [
        (volunteer.pseudonym, 4),
        (coordinator.pseudonym, 1),
        (volunteer.pseudonym, 1),
    ]
    assert AuditEvent.objects.filter(target="case:x").count() == 6  # the log keeps every one
