"""Ranking volunteers for a help request: deterministic, and explained in one line.

Order of importance: a language shared with the requester (a volunteer without one is never
a best match: the desk lists them apart, and offers in turn never reach them), on shift now,
skill level, available now (weekly windows in the volunteer's own time zone), free capacity,
recent response time; the volunteer's id breaks ties so the same data always gives the same
list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import Exists, F, FloatField, OuterRef, Q
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
    """Volunteers who may be offered `request`: hard rules only, in one query. The
    definition; `rank` runs the same rules as SQL (`_RULES`)."""
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


# The hard rules of `candidates`, for rows `d` that name a volunteer (`d.volunteer_id`):
# the same conditions, written once more in SQL because ranking runs on every triage page
# and every offer, where building them through the ORM cost more than running them.
# tests/aid/test_matching_walk.py holds both to the same answers.
_RULES = """
    JOIN {profile} p ON p.id = d.volunteer_id
    JOIN {user} u ON u.id = p.user_id
    WHERE NOT p.paused AND u.is_active AND p.open_cases < p.max_cases AND p.id <> %s{trust}
    AND EXISTS (
        SELECT 1 FROM {user_groups} ug
        JOIN {group_permissions} gp ON gp.group_id = ug.group_id
        JOIN {permission} pm ON pm.id = gp.permission_id
        JOIN {content_type} ct ON ct.id = pm.content_type_id
        WHERE ug.user_id = u.id AND pm.codename = %s AND ct.app_label = %s
    )
    AND EXISTS (SELECT 1 FROM {authenticator} a WHERE a.user_id = u.id AND a.type IN (%s, %s))
    AND NOT EXISTS (SELECT 1 FROM {offer} o WHERE o.request_id = %s AND o.volunteer_id = p.id)
"""

# What ranking reads of a candidate, in this order: id, languages (JSON), time zone, max
# cases, open cases, response seconds, skill level, and the weekly windows that can hold
# `now` as text ("weekday start end", comma-separated; see _windows).
_COLUMNS = (
    "p.id, p.languages, p.time_zone, p.max_cases, p.open_cases, p.response_seconds, "
    "{level} AS level, (SELECT {concat} FROM {window} w "
    "WHERE w.volunteer_id = p.id AND w.weekday IN ({days})) AS windows"
)
# Within a skill level, the order of the ranking's later keys that the database can know:
# most free capacity, fastest answer, id. (Python's float division and the database's
# double precision division of the same integers give the same number.)
_WITHIN_LEVEL = (
    "CASE WHEN p.max_cases > 0 THEN CAST(p.max_cases - p.open_cases AS {real}) / p.max_cases "
    "ELSE 0 END DESC, COALESCE(p.response_seconds, 3600), p.id"
)


def _tables() -> dict[str, str]:
    from allauth.mfa.models import Authenticator
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from krov.accounts.models import User
    from krov.aid.models import VolunteerMatchKey

    models = {
        "profile": VolunteerProfile,
        "user": User,
        "user_groups": User.groups.through,
        "group_permissions": Permission.group_set.through,
        "permission": Permission,
        "content_type": ContentType,
        "authenticator": Authenticator,
        "offer": Offer,
        "shift": Shift,
        "skill": VolunteerSkill,
        "match_key": VolunteerMatchKey,
        "window": AvailabilityWindow,
    }
    return {name: connection.ops.quote_name(m._meta.db_table) for name, m in models.items()}


def _rules(request: HelpRequest, tables: dict[str, str]) -> tuple[str, list]:
    from allauth.mfa.models import Authenticator

    sensitive = request.sensitivity > Sensitivity.LOW
    sql = _RULES.format(trust=" AND p.trust <> %s" if sensitive else "", **tables)
    params: list = [request.assignee_id or 0]
    if sensitive:
        params.append(TrustLevel.PROBATION)
    params += [
        "answer_help_requests",
        "accounts",
        Authenticator.Type.TOTP,
        Authenticator.Type.WEBAUTHN,
        request.pk,
    ]
    return sql, params


def _columns(tables: dict[str, str], days: set[int], level: str) -> str:
    text = " || ' ' || ".join(
        f"CAST(w.{connection.ops.quote_name(c)} AS TEXT)" for c in ("weekday", "start", "end")
    )
    concat = (
        f"group_concat({text}, ',')"
        if connection.vendor == "sqlite"
        else f"string_agg({text}, ',')"
    )
    return _COLUMNS.format(
        level=level,
        concat=concat,
        window=tables["window"],
        days=", ".join(str(int(day)) for day in sorted(days)),
    )


def _windows(text: str | None) -> list[_Window]:
    """The windows of a candidate row, in the model's order (weekday, start)."""
    windows = []
    for item in (text or "").split(","):
        if item:
            day, start, end = item.split(" ")
            windows.append(_Window(int(day), time.fromisoformat(start), time.fromisoformat(end)))
    return sorted(windows, key=lambda w: (w.weekday, w.start))


@dataclass
class _Candidate:
    pk: int
    shared: bool
    zone: str
    max_cases: int
    open_cases: int
    response: int | None
    level: int
    windows: str | None
    shift_end: datetime | None = None
    _until: dict = field(default_factory=dict)

    def until(self, now: datetime) -> time | None:
        if now not in self._until:
            self._until[now] = available_until(_windows(self.windows), self.zone, now)
        return self._until[now]

    def sort_key(self, now: datetime) -> tuple:
        """The ranking, best first (see the module's docstring)."""
        max_cases, open_cases = self.max_cases, self.open_cases
        free = (max_cases - open_cases) / max_cases if max_cases else 0
        return (
            0 if self.shared else 1,
            0 if self.shift_end else 1,
            -(self.level or 0),
            0 if self.until(now) else 1,
            -free,
            self.response if self.response is not None else 3600,
            self.pk,
        )


def _candidate(row, language: str | None) -> _Candidate:
    """A row of _COLUMNS; `language` None: a match key row, of the request's language."""
    pk, languages, zone, max_cases, open_cases, response, level, windows = row
    if language is None:
        shared = True
    else:
        if isinstance(languages, str):  # raw JSON text
            languages = json.loads(languages)
        shared = language in (languages or [])
    return _Candidate(pk, shared, zone, max_cases, open_cases, response, level, windows)


def _walk(
    sql: str, params: list, language: str | None, *, enough: int, skip: set[int], now: datetime
) -> list[_Candidate]:
    """Candidates from `sql` (one skill level a query, its last parameter; rows in the order
    of _WITHIN_LEVEL), best level first: the first `enough` of them in the ranking's order
    (more when a level is cut), not counting those in `skip`. Within a level the ranking
    puts those available now first, so the walk stops as soon as higher levels and this
    level's available ones are `enough`; otherwise it reads the level to its end, and the
    next level only if that is still too few. Usually one query: the best level."""
    taken: list[_Candidate] = []
    for level in sorted(VolunteerSkill.Level.values, reverse=True):
        available: list[_Candidate] = []
        rest: list[_Candidate] = []
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, level])
            while batch := cursor.fetchmany(4 * enough + 8):
                for row in batch:
                    if row[0] in skip:
                        continue
                    candidate = _candidate(row, language)
                    if candidate.until(now):
                        available.append(candidate)
                        if len(taken) + len(available) >= enough:
                            return taken + available
                    else:
                        rest.append(candidate)
        taken += available + rest
        if len(taken) >= enough:
            break
    return taken


def _when(value) -> datetime:
    if isinstance(value, str):  # SQLite: naive UTC text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def rank(
    request: HelpRequest,
    *,
    limit: int = 5,
    now: datetime | None = None,
    shared_language_only: bool = False,
) -> list[Match]:
    """The best `limit` volunteers for `request`, best first. Three queries whatever the
    number of volunteers when the best skill level holds `limit` candidates (one more for
    each further level read, and for those not sharing the language, at most eight):

    - the candidates on shift now, at any level, with their shift's end (few: a shift
      lasts hours);
    - the candidates who share the language, walked best level first through the match
      keys' index until `limit` of them are certain to come first: nobody further down can
      come before those (the order is language, shift, level, then the rest);
    - only if that is fewer than `limit`, the same walk over the skill's holders;
    - the winners as objects.

    Each candidate row carries its weekly windows. The order itself is computed here, for
    these few, exactly as for everyone before: the same keys, the volunteer's id breaking
    ties."""
    now = now or timezone.now()
    tables = _tables()
    rules, rule_params = _rules(request, tables)
    # Only windows that can contain `now` in some time zone: UTC's weekday, one either side,
    # and the day before those for windows that run past midnight.
    utc_day = now.astimezone(ZoneInfo("UTC")).weekday()
    days = {(utc_day + offset) % 7 for offset in (-2, -1, 0, 1)}
    moment = connection.ops.adapt_datetimefield_value(now)
    found: dict[int, _Candidate] = {}
    with connection.cursor() as cursor:
        # Shifts first (their index on the end): SQLite takes CROSS JOIN as that order.
        join = "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"
        cursor.execute(
            f"SELECT {_columns(tables, days, 'k.level')}, d.ends_at "  # noqa: S608
            f"FROM {tables['shift']} d {join} {tables['skill']} k "
            f"ON k.volunteer_id = d.volunteer_id AND k.skill_id = %s"
            f"{rules} AND d.starts_at <= %s AND d.ends_at > %s",
            [request.skill_id, *rule_params, moment, moment],
        )
        for *row, ends_at in cursor.fetchall():
            candidate = found.setdefault(row[0], _candidate(row, request.language))
            ends_at = _when(ends_at)
            candidate.shift_end = max(ends_at, candidate.shift_end or ends_at)
    order = (
        f"AND d.level = %s ORDER BY {_WITHIN_LEVEL.format(real=FloatField().db_type(connection))}"
    )
    shared = _walk(
        f"SELECT {_columns(tables, days, 'd.level')} "  # noqa: S608
        f"FROM {tables['match_key']} d{rules} AND d.skill_id = %s AND d.language = %s {order}",
        [*rule_params, request.skill_id, request.language],
        None,
        enough=limit,
        skip=set(found),
        now=now,
    )
    found.update((candidate.pk, candidate) for candidate in shared)
    if not shared_language_only and sum(c.shared for c in found.values()) < limit:
        # Everyone who shares the language is found by now: the others, at any level.
        others = _walk(
            f"SELECT {_columns(tables, days, 'd.level')} "  # noqa: S608
            f"FROM {tables['skill']} d{rules} AND d.skill_id = %s {order}",
            [*rule_params, request.skill_id],
            request.language,
            enough=limit,
            skip=set(found),
            now=now,
        )
        found.update((candidate.pk, candidate) for candidate in others)
    scored = sorted(
        (candidate.sort_key(now), candidate)
        for candidate in found.values()
        if candidate.shared or not shared_language_only
    )[:limit]
    if not scored:
        return []
    profiles = VolunteerProfile.objects.select_related("user").in_bulk(
        [candidate.pk for _key, candidate in scored]
    )
    return [
        Match(
            volunteer=profiles[candidate.pk],
            language=request.language,
            level=candidate.level or 0,
            shared_language=candidate.shared,
            available_until=candidate.until(now),
            on_shift_until=candidate.shift_end,
            sort_key=sort_key,
        )
        for sort_key, candidate in scored
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
