"""Volunteer profiles, trust, shifts, and what panic or a lost factor does to them."""

from __future__ import annotations

from datetime import time, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.aid.models import (
    AID_LANGUAGES,
    HelpRequest,
    Note,
    Offer,
    TrustLevel,
    VolunteerProfile,
    VolunteerSkill,
)
from krov.aid.services.access import _require_coordinator
from krov.aid.services.base import AidError
from krov.aid.services.match_keys import sync_match_keys
from krov.aid.services.offers import offer_next
from krov.aid.services.relay import _release
from krov.core import audit
from krov.core.models import AuditEvent


@transaction.atomic
def vouch_for(user: User, *, actor: User, languages: list[str]) -> VolunteerProfile:
    """A coordinator makes `user` a volunteer on their word; they start on probation."""
    _require_coordinator(actor)
    if not user.is_active:
        raise AidError(_("This account is locked."))
    if user.is_service_account:
        raise AidError(_("A service account cannot be a volunteer."))
    profile, created = VolunteerProfile.objects.get_or_create(
        user=user,
        defaults={
            "languages": [code for code in languages if code in AID_LANGUAGES],
            "vouched_by": actor,
            "vouched_at": timezone.now(),
        },
    )
    if not created and profile.vouched_by_id is None:
        profile.vouched_by, profile.vouched_at = actor, timezone.now()
        profile.save(update_fields=["vouched_by", "vouched_at"])
    if created:
        sync_match_keys(profile)
    current = account_services.user_roles(user)
    if roles.VOLUNTEER not in current and roles.COORDINATOR not in current:
        # The coordinator's vouch is the second person's word that a grant needs.
        account_services.set_roles(
            user, current | {roles.VOLUNTEER}, actor=actor, confirmed_by=actor
        )
    audit.record(AuditEvent.Kind.VOLUNTEER_VOUCHED, actor=actor, subject=user)
    return profile


@transaction.atomic
def set_trust(profile: VolunteerProfile, level: int, *, actor: User) -> None:
    _require_coordinator(actor)
    if level not in TrustLevel.values:
        raise AidError(_("Unknown trust level."))
    old = profile.trust
    VolunteerProfile.objects.filter(pk=profile.pk).update(trust=level)
    profile.trust = level
    audit.record(
        AuditEvent.Kind.TRUST_CHANGED, actor=actor, subject=profile.user, old=old, new=level
    )


def ensure_profile(user: User) -> VolunteerProfile:
    """The profile of someone who holds the volunteer role (made on first use)."""
    profile, _created = VolunteerProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_profile(
    profile: VolunteerProfile,
    *,
    actor: User,
    languages: list[str],
    max_cases: int,
    time_zone: str,
    paused: bool,
    skills: dict[int, int],
    windows: list[tuple[int, time, time]],
) -> None:
    from krov.aid.models import AvailabilityWindow
    from krov.core.inputs import is_time_zone

    if profile.user_id != actor.pk:
        raise AidError(_("You can only change your own profile."))
    if not is_time_zone(time_zone):
        raise AidError(_("Unknown time zone."))
    profile.languages = [code for code in languages if code in AID_LANGUAGES]
    profile.max_cases = max(1, min(20, max_cases))
    profile.time_zone = time_zone
    profile.paused = paused
    profile.save(update_fields=["languages", "max_cases", "time_zone", "paused"])
    VolunteerSkill.objects.filter(volunteer=profile).exclude(skill_id__in=skills).delete()
    for skill_id, level in skills.items():
        VolunteerSkill.objects.update_or_create(
            volunteer=profile, skill_id=skill_id, defaults={"level": max(1, min(3, level))}
        )
    AvailabilityWindow.objects.filter(volunteer=profile).delete()
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(volunteer=profile, weekday=day, start=start, end=end)
        for day, start, end in windows
    )
    sync_match_keys(profile)


def current_shift(profile: VolunteerProfile):
    """The shift the volunteer declared and that has not ended yet, if any."""
    return profile.shifts.filter(ends_at__gt=timezone.now()).first()


def start_shift(profile: VolunteerProfile, *, actor: User, hours: int) -> None:
    from krov.aid.models import Shift

    if profile.user_id != actor.pk:
        raise AidError(_("You can only declare your own shifts."))
    if not 1 <= hours <= 12:
        raise AidError(_("A shift lasts between 1 and 12 hours."))
    now = timezone.now()
    Shift.objects.filter(volunteer=profile, ends_at__gt=now).update(ends_at=now)
    Shift.objects.create(volunteer=profile, starts_at=now, ends_at=now + timedelta(hours=hours))


def end_shift(profile: VolunteerProfile, *, actor: User) -> None:
    from krov.aid.models import Shift

    if profile.user_id != actor.pk:
        raise AidError(_("You can only end your own shifts."))
    Shift.objects.filter(volunteer=profile, ends_at__gt=timezone.now()).update(
        ends_at=timezone.now()
    )


@transaction.atomic
def release_after_panic(user: User) -> int:
    """Panic: the account's open cases go back to triage, its offers are withdrawn."""
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        return 0
    Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, answered_at=timezone.now()
    )
    VolunteerProfile.objects.filter(pk=profile.pk).update(paused=True)
    cases = list(HelpRequest.objects.filter(assignee=profile).open())
    for case in cases:
        _release(
            case,
            Note.Kind.SYSTEM,
            _(
                "The volunteer on this case pressed panic; their account is locked. "
                "Please find a new volunteer and do not contact the previous one."
            ),
            author=None,
        )
    return len(cases)


@transaction.atomic
def pause_without_second_factor(user: User) -> None:
    """The last second factor is gone: no new offers; pending ones go to the next volunteer.

    Open cases stay theirs (the web desk lets them back in once a factor is added again);
    coordinators see them in the unanswered list meanwhile.
    """
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        return
    VolunteerProfile.objects.filter(pk=profile.pk).update(paused=True)
    pending = list(
        Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).values_list(
            "request_id", flat=True
        )
    )
    Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, answered_at=timezone.now()
    )
    for request_id in pending:
        transaction.on_commit(partial(offer_next, request_id))
