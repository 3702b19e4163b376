"""Ranking volunteers for a help request: deterministic, and explained in one line.

Order of importance: on shift now, a language shared with the requester, skill level,
available now (weekly windows in the volunteer's own time zone), free capacity, recent
response time; the volunteer's id breaks ties so the same data always gives the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Exists, F, OuterRef, Prefetch, Q
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


def candidates(request: HelpRequest, *, now: datetime):
    """Volunteers who may be offered `request`: one query plus two prefetches."""
    from krov.accounts.models import User

    can_answer = User.groups.through.objects.filter(
        user_id=OuterRef("user_id"),
        group__permissions__codename="answer_help_requests",
        group__permissions__content_type__app_label="accounts",
    )
    already_asked = Offer.objects.filter(request_id=request.pk, volunteer_id=OuterRef("pk"))
    level = VolunteerSkill.objects.filter(volunteer_id=OuterRef("pk"), skill_id=request.skill_id)
    queryset = (
        VolunteerProfile.objects.filter(
            Exists(can_answer),
            Exists(level),
            paused=False,
            user__is_active=True,
            open_cases__lt=F("max_cases"),
        )
        .exclude(Exists(already_asked))
        .exclude(pk=request.assignee_id or 0)
        .annotate(skill_level=level.values("level")[:1])
        .select_related("user")
        .prefetch_related(
            Prefetch("windows", queryset=AvailabilityWindow.objects.all()),
            Prefetch(
                "shifts",
                queryset=Shift.objects.filter(starts_at__lte=now, ends_at__gt=now),
                to_attr="current_shifts",
            ),
        )
    )
    if request.sensitivity > Sensitivity.LOW:
        queryset = queryset.filter(~Q(trust=TrustLevel.PROBATION))
    return queryset


def rank(request: HelpRequest, *, limit: int = 5, now: datetime | None = None) -> list[Match]:
    now = now or timezone.now()
    matches = []
    for volunteer in candidates(request, now=now):
        shared = request.language in (volunteer.languages or [])
        until = available_until(volunteer.windows.all(), volunteer.time_zone, now)
        shift_end = max((s.ends_at for s in volunteer.current_shifts), default=None)
        free = (volunteer.max_cases - volunteer.open_cases) / volunteer.max_cases
        response = volunteer.response_seconds if volunteer.response_seconds is not None else 3600
        sort_key = (
            0 if shift_end else 1,
            0 if shared else 1,
            -(volunteer.skill_level or 0),
            0 if until else 1,
            -free,
            response,
            volunteer.pk,
        )
        matches.append(
            Match(
                volunteer=volunteer,
                language=request.language,
                level=volunteer.skill_level or 0,
                shared_language=shared,
                available_until=until,
                on_shift_until=shift_end,
                sort_key=sort_key,
            )
        )
    matches.sort(key=lambda m: m.sort_key)
    return matches[:limit]


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
