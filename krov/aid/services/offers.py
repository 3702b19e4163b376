"""Offering a case to volunteers, accepting, declining, expiry and assignment."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.aid import matching, notices
from krov.aid.models import (
    HelpRequest,
    Note,
    Offer,
    Sensitivity,
    TrustLevel,
    VolunteerProfile,
)
from krov.aid.services.access import _require_coordinator, profile_of
from krov.aid.services.base import AidError, Status, _new_alias
from krov.aid.services.channels import _system_message
from krov.aid.services.match_keys import sync_load
from krov.core import notify


def _withdraw_offers(case: HelpRequest, *, except_offer: Offer | None = None) -> None:
    pending = Offer.objects.filter(request=case, status=Offer.Status.PENDING)
    if except_offer is not None:
        pending = pending.exclude(pk=except_offer.pk)
    pending.update(status=Offer.Status.WITHDRAWN, answered_at=timezone.now())


@transaction.atomic
def offer(
    case: HelpRequest, *, actor: User | None, volunteer: VolunteerProfile | None = None
) -> Offer | None:
    """Offer `case` to `volunteer`, or to the best match not yet asked. Returns the offer,
    or None when nobody is left (the case goes back to triage with a note)."""
    if actor is not None:
        _require_coordinator(actor)
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if case.status not in {Status.NEW, Status.TRIAGED, Status.OFFERED}:
        raise AidError(_("Only a request waiting for a volunteer can be offered."))
    explanation, rank = "", 1
    if volunteer is None:
        ranked = matching.rank(case, limit=1, shared_language_only=True)
        if not ranked:
            _back_to_triage(case, _("No volunteer is left to offer this request to."))
            return None
        volunteer, explanation = ranked[0].volunteer, ranked[0].explanation
    elif not _may_take(volunteer, case):
        raise AidError(_("This volunteer cannot take this case (trust, capacity or pause)."))
    rank = Offer.objects.filter(request=case).count() + 1
    now = timezone.now()
    made = Offer.objects.create(
        request=case,
        volunteer=volunteer,
        rank=rank,
        explanation=explanation[:200],
        offered_by=actor,
        offered_at=now,
        expires_at=now + timedelta(minutes=settings.KROV_OFFER_MINUTES),
    )
    fields = ["status", "last_activity_at"]
    if case.triaged_at is None:
        case.triaged_at = now
        fields.append("triaged_at")
    case.status, case.last_activity_at = Status.OFFERED, now
    case.save(update_fields=fields)
    notify.notify(
        volunteer.user, notices.OFFER, link=_console_link(), ref=f"offer:{made.public_id}"
    )
    return made


def _console_link() -> str:
    from django.urls import reverse

    return reverse("aid:console")


def _may_take(volunteer: VolunteerProfile, case: HelpRequest) -> bool:
    if volunteer.paused or not volunteer.user.is_active:
        return False
    if not volunteer.user.has_perm("accounts.answer_help_requests"):
        return False
    if not account_services.has_mfa(volunteer.user):
        return False  # every path to case content needs a second factor
    if volunteer.trust == TrustLevel.PROBATION and case.sensitivity > Sensitivity.LOW:
        return False
    return volunteer.open_cases < volunteer.max_cases


def _back_to_triage(case: HelpRequest, why: str) -> None:
    HelpRequest.objects.filter(pk=case.pk).update(
        status=Status.TRIAGED, assignee=None, alias="", last_activity_at=timezone.now()
    )
    Note.objects.create(request=case, kind=Note.Kind.SYSTEM, body=why)
    case.refresh_from_db()


def _take(case: HelpRequest, volunteer: VolunteerProfile, *, from_statuses) -> bool:
    """Make `volunteer` the assignee if nobody else got there first (one conditional
    UPDATE: of two concurrent claims exactly one matches a row)."""
    won = HelpRequest.objects.filter(
        pk=case.pk, assignee__isnull=True, status__in=from_statuses
    ).update(
        assignee=volunteer,
        alias=_new_alias(),
        status=Status.ACTIVE,
        last_activity_at=timezone.now(),
    )
    if not won:
        return False
    took_slot = VolunteerProfile.objects.filter(
        pk=volunteer.pk, open_cases__lt=F("max_cases")
    ).update(open_cases=F("open_cases") + 1)
    if not took_slot:
        raise AidError(_("You already have as many cases as you said you can take."))
    sync_load(volunteer.pk)
    return True


def accept_offer(offer_obj: Offer, *, actor: User) -> HelpRequest:
    with transaction.atomic():
        profile = profile_of(actor)
        if profile is None or offer_obj.volunteer_id != profile.pk:
            raise AidError(_("This offer is not yours."))
        # Lock the case first: every writer of a case's offers takes this lock before the
        # offer rows, so two claims queue up instead of deadlocking.
        case = _lock_case(offer_obj.request_id)
        now = timezone.now()
        claimed = Offer.objects.filter(
            pk=offer_obj.pk, status=Offer.Status.PENDING, expires_at__gt=now
        ).update(status=Offer.Status.ACCEPTED, answered_at=now)
        if not claimed:
            raise AidError(_("This offer is no longer open."))
        if not _take(case, profile, from_statuses=[Status.OFFERED, Status.TRIAGED, Status.NEW]):
            raise AidError(_("Another volunteer has already taken this case."))
        _withdraw_offers(case, except_offer=offer_obj)
        seconds = int((now - offer_obj.offered_at).total_seconds())
        previous = profile.response_seconds
        average = seconds if previous is None else (previous * 3 + seconds) // 4
        VolunteerProfile.objects.filter(pk=profile.pk).update(response_seconds=average)
        sync_load(profile.pk)
        _system_message(
            case, gettext_lazy("A Krov volunteer has taken your request and will write soon.")
        )
    case.refresh_from_db()
    return case


def _lock_case(request_id: int) -> HelpRequest:
    """Every change to a case's offers locks the case row first (see accept_offer)."""
    return HelpRequest.objects.select_for_update().get(pk=request_id)


def decline_offer(offer_obj: Offer, *, actor: User) -> None:
    profile = profile_of(actor)
    if profile is None or offer_obj.volunteer_id != profile.pk:
        raise AidError(_("This offer is not yours."))
    with transaction.atomic():
        _lock_case(offer_obj.request_id)
        declined = Offer.objects.filter(pk=offer_obj.pk, status=Offer.Status.PENDING).update(
            status=Offer.Status.DECLINED, answered_at=timezone.now()
        )
        if declined:
            offer_next(offer_obj.request_id)


def offer_next(request_id: int) -> Offer | None:
    """After a decline or an expiry: offer to the next match if nobody holds an offer."""
    case = HelpRequest.objects.get(pk=request_id)
    if case.status != Status.OFFERED:
        return None
    if case.offers.filter(status=Offer.Status.PENDING).exists():
        return None
    return offer(case, actor=None)


def expire_offers(now: datetime | None = None) -> int:
    """Expire offers past their time and move each request on; safe to run concurrently."""
    now = now or timezone.now()
    expired_ids = list(
        Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now).values_list(
            "pk", "request_id"
        )
    )
    count = 0
    for offer_id, request_id in expired_ids:
        with transaction.atomic():
            _lock_case(request_id)
            if Offer.objects.filter(pk=offer_id, status=Offer.Status.PENDING).update(
                status=Offer.Status.EXPIRED, answered_at=now
            ):
                count += 1
                offer_next(request_id)
    return count


def assign(case: HelpRequest, volunteer: VolunteerProfile, *, actor: User) -> HelpRequest:
    """A coordinator gives the case to a volunteer directly."""
    _require_coordinator(actor)
    with transaction.atomic():
        if not _may_take(volunteer, case):
            raise AidError(_("This volunteer cannot take this case (trust, capacity or pause)."))
        if not _take(case, volunteer, from_statuses=[Status.NEW, Status.TRIAGED, Status.OFFERED]):
            raise AidError(_("This case already has a volunteer."))
        _withdraw_offers(case)
        case.refresh_from_db()
        notify.notify(volunteer.user, notices.ASSIGNED, link=_console_link())
        _system_message(
            case, gettext_lazy("A Krov volunteer has taken your request and will write soon.")
        )
    return case


def volunteer_waiting(profile: VolunteerProfile) -> dict:
    """What waits for a volunteer, for their home: offers to answer (and the soonest to
    expire) and their open cases, in one query each."""
    offers = Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).aggregate(
        offers=Count("pk"), expires=Min("expires_at")
    )
    return {**offers, "cases": HelpRequest.objects.filter(assignee=profile).open().count()}
