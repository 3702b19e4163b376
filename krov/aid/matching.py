"""Ranking volunteers for a help request: deterministic, and explained in one line.

Order of importance: a language shared with the requester (a volunteer without one is never
a best match: the desk lists them apart, and offers in turn never reach them), on shift now,
skill level, available now (weekly windows in the volunteer's own time zone), free capacity,
recent response time; the volunteer's id breaks ties so the same data always gives the same
list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.aid.models import (
    AvailabilityWindow,
    HelpRequest,
    Offer,
    Sensitivity,
    Shift,
    TrustLevel,
    VolunteerProfile,
    VolunteerSkill,
)


@dataclass(frozen=True)
class Match:
    volunteer: VolunteerProfile
    language: str
    level: int
    shared_language: bool
    available_until: time | None
    on_shift_until: datetime | None
    sort_key: tuple

    @property
    def explanation(self) -> str:
        return explain(self)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def available_until(windows, zone_name: str, now: datetime) -> time | None:
    """The end of the weekly window the volunteer is in at `now`, or None."""
    local = now.astimezone(_zone(zone_name))
    clock = local.time().replace(tzinfo=None)
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    for window in windows:
        if window.start < window.end:
            if window.weekday == today and window.start <= clock < window.end:
                return window.end
        else:  # past midnight: 22:00-02:00
            if window.weekday == today and clock >= window.start:
                return window.end
            if window.weekday == yesterday and clock < window.end:
                return window.end
    return None


def candidates(request: HelpRequest):
    """Volunteers who may be offered `request`: hard rules only, in one query."""
    from allauth.mfa.models import Authenticator

    from krov.accounts.models import User

    can_answer = User.groups.through.objects.filter(
        user_id=OuterRef("user_id"),
        group__permissions__codename="answer_help_requests",
        group__permissions__content_type__app_label="accounts",
    )
    # Every path to case content needs a second factor (TOTP or a security key).
    second_factor = Authenticator.objects.filter(
        user_id=OuterRef("user_id"),
        type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN],
    )
    already_asked = Offer.objects.filter(request_id=request.pk, volunteer_id=OuterRef("pk"))
    level = VolunteerSkill.objects.filter(volunteer_id=OuterRef("pk"), skill_id=request.skill_id)
    queryset = (
        VolunteerProfile.objects.filter(
            Exists(can_answer),
            Exists(second_factor),
            Exists(level),
            paused=False,
            user__is_active=True,
            open_cases__lt=F("max_cases"),
        )
        .exclude(Exists(already_asked))
        .exclude(pk=request.assignee_id or 0)
        .annotate(skill_level=level.values("level")[:1])
    )
    if request.sensitivity > Sensitivity.LOW:
        queryset = queryset.filter(~Q(trust=TrustLevel.PROBATION))
    return queryset


@dataclass(frozen=True)
class _Window:
    weekday: int
    start: time
    end: time


def rank(
    request: HelpRequest,
    *,
    limit: int = 5,
    now: datetime | None = None,
    shared_language_only: bool = False,
) -> list[Match]:
    """The best `limit` volunteers for `request`, best first. Four queries whatever the
    number of volunteers: candidates and their windows and shifts as plain rows, then
    the winners as objects. Rows, not model instances, keep thousands of candidates cheap."""
    now = now or timezone.now()
    rows = list(
        candidates(request).values_list(
            "pk",
            "languages",
            "time_zone",
            "max_cases",
            "open_cases",
            "response_seconds",
            "skill_level",
        )
    )
    if not rows:
        return []
    candidate_ids = [row[0] for row in rows]
    # Only windows that can contain `now` in some time zone: UTC's weekday, one either side,
    # and the day before those for windows that run past midnight.
    utc_day = now.astimezone(ZoneInfo("UTC")).weekday()
    days = {(utc_day + offset) % 7 for offset in (-2, -1, 0, 1)}
    windows: dict[int, list[_Window]] = {}
    for volunteer_id, weekday, start, end in AvailabilityWindow.objects.filter(
        volunteer_id__in=candidate_ids, weekday__in=days
    ).values_list("volunteer_id", "weekday", "start", "end"):
        windows.setdefault(volunteer_id, []).append(_Window(weekday, start, end))
    shifts: dict[int, datetime] = {}
    for volunteer_id, ends_at in Shift.objects.filter(
        volunteer_id__in=candidate_ids, starts_at__lte=now, ends_at__gt=now
    ).values_list("volunteer_id", "ends_at"):
        shifts[volunteer_id] = max(ends_at, shifts.get(volunteer_id, ends_at))

    scored = []
    for pk, languages, zone, max_cases, open_cases, response, level in rows:
        shared = request.language in (languages or [])
        if shared_language_only and not shared:
            continue
        until = available_until(windows.get(pk, ()), zone, now)
        shift_end = shifts.get(pk)
        free = (max_cases - open_cases) / max_cases if max_cases else 0
        sort_key = (
            0 if shared else 1,
            0 if shift_end else 1,
            -(level or 0),
            0 if until else 1,
            -free,
            response if response is not None else 3600,
            pk,
        )
        scored.append((sort_key, pk, shared, until, shift_end, level or 0))
    scored.sort()
    best = scored[:limit]
    profiles = VolunteerProfile.objects.select_related("user").in_bulk([row[1] for row in best])
    return [
        Match(
            volunteer=profiles[pk],
            language=request.language,
            level=level,
            shared_language=shared,
            available_until=until,
            on_shift_until=shift_end,
            sort_key=sort_key,
        )
        for sort_key, pk, shared, until, shift_end, level in best
    ]


def explain(match: Match) -> str:
    """ "uk ✓, ★★★, 1/3 cases, available until 22:00, on shift"."""
    volunteer = match.volunteer
    parts = [
        f"{match.language} ✓" if match.shared_language else f"{match.language} ✗",
        "★" * match.level + "☆" * (3 - match.level),
        _("%(open)s/%(max)s cases") % {"open": volunteer.open_cases, "max": volunteer.max_cases},
    ]
    if match.available_until:
        until = match.available_until.strftime("%H:%M")
        parts.append(_("available until %(time)s") % {"time": until})
    else:
        parts.append(_("outside their hours"))
    if match.on_shift_until:
        parts.append(_("on shift"))
    if volunteer.response_seconds is not None:
        minutes = max(1, volunteer.response_seconds // 60)
        parts.append(_("answers in ~%(minutes)s min") % {"minutes": minutes})
    return ", ".join(str(p) for p in parts)
