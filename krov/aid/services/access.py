"""Who may see and write which case."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from krov.aid.models import (
    HelpRequest,
    Offer,
    VolunteerProfile,
)
from krov.aid.services.base import AidError
from krov.core import audit
from krov.core.models import AuditEvent


def is_coordinator(user) -> bool:
    return user.is_authenticated and user.has_perm("accounts.triage_help_requests")


def is_custodian(user) -> bool:
    """The service account of a key custodian that is not revoked (it acts only through its
    token: see services.custodians)."""
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        custodian = user.custodian
    except ObjectDoesNotExist:
        return False
    return custodian.revoked_at is None and user.is_active


def holds_team_key_role(user) -> bool:
    """Who may hold the team key: coordinators, and key custodians."""
    return is_coordinator(user) or is_custodian(user)


def profile_of(user) -> VolunteerProfile | None:
    if not user.is_authenticated or not user.has_perm("accounts.answer_help_requests"):
        return None
    return VolunteerProfile.objects.filter(user=user).first()


def can_view_case(user, case: HelpRequest) -> bool:
    if is_coordinator(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return False
    if case.assignee_id == profile.pk:
        return True
    return case.offers.filter(volunteer=profile, status=Offer.Status.PENDING).exists()


def can_write_case(user, case: HelpRequest) -> bool:
    profile = profile_of(user)
    return profile is not None and case.assignee_id == profile.pk and case.is_open


def get_case_for_user(user, public_id, *, audited: bool = True) -> HelpRequest | None:
    """The case if `user` may open it (the opening is audited), else None: callers answer
    404 for "missing" and "forbidden" alike. Polling a page already opened passes
    `audited=False`: the opening was recorded once."""
    case = HelpRequest.objects.filter(public_id=public_id).select_related("skill").first()
    if case is None or not can_view_case(user, case):
        return None
    if audited:
        audit.record(AuditEvent.Kind.CASE_ACCESSED, actor=user, target=f"case:{case.public_id}")
    return case


# Openings of a case by one person within this long show as one row (with a count).
ACCESS_LOG_RUN = timedelta(minutes=30)


def access_log(case: HelpRequest) -> list:
    """Who opened the case, newest first: one row per person per half hour (each a
    core.audit.Run: its latest event and how many openings it stands for); the audit log
    itself keeps every opening."""
    events = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CASE_ACCESSED, target=f"case:{case.public_id}"
    )[:500]
    return audit.collapse_repeats(events, within=ACCESS_LOG_RUN)[:200]


def _require_coordinator(actor) -> None:
    if not is_coordinator(actor):
        raise AidError(_("Only coordinators can do this."))
