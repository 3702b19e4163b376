"""Ranking volunteers for a help request: deterministic, and explained in one line.

Order of importance: a language shared with the requester (a volunteer without one is never
a best match: the desk lists them apart, and offers in turn never reach them), on shift now,
skill level, available now (weekly windows in the volunteer's own time zone), free capacity,
recent response time; the volunteer's id breaks ties so the same data always gives the same
list.

The database walks the candidates who share the language in that order through one index
of the match keys (`VolunteerMatchKey`: level, free capacity and answer time copied from the
profile by `services.match_keys`), so ranking reads a handful of rows, not every volunteer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
from krov.core import prepared


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


# The answer time assumed for a volunteer who has not answered an offer yet.
UNKNOWN_RESPONSE_SECONDS = 3600


def free_share(max_cases: int, open_cases: int) -> float:
    """The share of the volunteer's capacity still free: the ranking's key, and what the
    match keys carry (`free`). Python's float division and the database's double precision
    division of the same integers give the same number, so equal loads tie in both."""
    return (max_cases - open_cases) / max_cases if max_cases else 0.0


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe", a folder
        return ZoneInfo("UTC")


@lru_cache(maxsize=1024)
def _local_clock(zone_name: str, now: datetime) -> tuple[int, int, time]:
    """Today's and yesterday's weekday and the wall clock in `zone_name` at `now`."""
    local = now.astimezone(_zone(zone_name))
    return local.weekday(), (local.weekday() - 1) % 7, local.time().replace(tzinfo=None)


def available_until(windows, zone_name: str, now: datetime) -> time | None:
    """The end of the weekly window the volunteer is in at `now`, or None."""
    today, yesterday, clock = _local_clock(zone_name, now)
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
# tests/aid/test_matching_walk.py holds both to the same answers. `{fence}` ends each
# subquery: on PostgreSQL "OFFSET 0", which keeps it a check of each row read, not a join
# to plan. Joined in, the planner estimated the chain group → permission → content type at
# two users (it is every volunteer) and started from it (a walk joined all 5,000
# volunteers to their keys and sorted them before its first row came back); and planning
# the three joins took longer than running a walk (0.9-1.0 ms, 0.5 ms without them).
_RULES = """
    JOIN {profile} p ON p.id = d.volunteer_id
    JOIN {user} u ON u.id = p.user_id
    WHERE NOT p.paused AND u.is_active AND p.open_cases < p.max_cases AND p.id <> %s{trust}
    AND EXISTS (
        SELECT 1 FROM {user_groups} ug
        JOIN {group_permissions} gp ON gp.group_id = ug.group_id
        JOIN {permission} pm ON pm.id = gp.permission_id
        JOIN {content_type} ct ON ct.id = pm.content_type_id
        WHERE ug.user_id = u.id AND pm.codename = %s AND ct.app_label = %s{fence}
    )
    AND EXISTS (
        SELECT 1 FROM {authenticator} a WHERE a.user_id = u.id AND a.type IN (%s, %s){fence}
    )
    AND NOT EXISTS (
        SELECT 1 FROM {offer} o WHERE o.request_id = %s AND o.volunteer_id = p.id{fence}
    )
"""

# What ranking reads of a candidate, in this order: id, languages (JSON), time zone, max
# cases, open cases, response seconds, skill level, and the weekly windows (those that can
# hold `now`, at least) as text: "weekday start end", comma-separated (`windows_text`). A
# match key carries them; otherwise they are read from the windows themselves.
_COLUMNS = (
    "p.id, p.languages, p.time_zone, p.max_cases, p.open_cases, p.response_seconds, "
    "{level} AS level, {windows} AS windows"
)
_WINDOWS = "(SELECT {concat} FROM {window} w WHERE w.volunteer_id = p.id AND w.weekday IN ({days}))"
# The order of the ranking's keys that the database can know, after the language and the
# shift: best level, most free capacity, fastest answer, id. The match keys carry them
# (their index holds this order: no sort); the skills' walk computes them from the profile.
_KEY_ORDER = "d.level DESC, d.free DESC, d.response, d.volunteer_id"
_SKILL_ORDER = (
    "d.level DESC, CASE WHEN p.max_cases > 0 "
    "THEN CAST(p.max_cases - p.open_cases AS {real}) / p.max_cases ELSE 0 END DESC, "
    f"COALESCE(p.response_seconds, {UNKNOWN_RESPONSE_SECONDS}), p.id"
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


def _rule_params(request: HelpRequest) -> list:
    """The parameters of _RULES for `request`, in their order."""
    from allauth.mfa.models import Authenticator

    params: list = [request.assignee_id or 0]
    if request.sensitivity > Sensitivity.LOW:
        params.append(TrustLevel.PROBATION)
    params += [
        "answer_help_requests",
        "accounts",
        Authenticator.Type.TOTP,
        Authenticator.Type.WEBAUTHN,
        request.pk,
    ]
    return params


@dataclass(frozen=True)
class _Statements:
    shift: str  # params: skill, *rules, now, now
    keys: str  # params: `key_params(…)`, limit, offset
    skills: str  # params: *rules, skill, limit, offset
    keys_first: bool  # the keys' skill and language come before the rules' parameters

    def key_params(self, rules: list, skill_id: int, language: str) -> list:
        keys = [skill_id, language]
        return [*keys, *rules] if self.keys_first else [*rules, *keys]


@lru_cache(maxsize=64)
def _statements(vendor: str, sensitive: bool, days: tuple[int, ...]) -> _Statements:
    """The three statements of `rank`, written once per process for each database, kind of
    request and set of weekdays (building them cost more than running them)."""
    tables = _tables()
    postgres = vendor == "postgresql"
    rules = _RULES.format(
        trust=" AND p.trust <> %s" if sensitive else "",
        fence=" OFFSET 0" if postgres else "",
        **tables,
    )
    text = " || ' ' || ".join(
        f"CAST(w.{connection.ops.quote_name(c)} AS TEXT)" for c in ("weekday", "start", "end")
    )
    concat = f"group_concat({text}, ',')" if vendor == "sqlite" else f"string_agg({text}, ',')"

    def columns(level: str, windows: str | None = None) -> str:
        if windows is None:
            windows = _WINDOWS.format(
                concat=concat,
                window=tables["window"],
                days=", ".join(str(int(day)) for day in days),
            )
        return _COLUMNS.format(level=level, windows=windows)

    # Shifts first (their index on the end): SQLite takes CROSS JOIN as that order.
    join = "CROSS JOIN" if vendor == "sqlite" else "JOIN"
    real = FloatField().db_type(connection)
    # `d.free > 0` is `p.open_cases < p.max_cases` read from the index.
    key_filter = "d.skill_id = %s AND d.language = %s AND d.free > 0"
    if postgres:
        # The skill and language's keys in the ranking's order, joined to the rules row by
        # row in that order, so the walk stops at its LIMIT ("OFFSET 0" keeps them apart).
        # Joined freely, the planner (counting on the rules to keep a tenth of the keys;
        # they keep most) read every key and profile of the skill and language, then
        # sorted them.
        keys = (
            f"(SELECT * FROM {tables['match_key']} d WHERE {key_filter} "  # noqa: S608
            f"ORDER BY {_KEY_ORDER} OFFSET 0) d{rules}"
        )
    else:
        keys = f"{tables['match_key']} d{rules} AND {key_filter}"
    return _Statements(
        shift=(
            f"SELECT {columns('k.level')}, d.ends_at "  # noqa: S608
            f"FROM {tables['shift']} d {join} {tables['skill']} k "
            f"ON k.volunteer_id = d.volunteer_id AND k.skill_id = %s"
            f"{rules} AND d.starts_at <= %s AND d.ends_at > %s"
        ),
        keys=(
            f"SELECT {columns('d.level', 'd.windows')} "  # noqa: S608
            f"FROM {keys} ORDER BY {_KEY_ORDER} LIMIT %s OFFSET %s"
        ),
        skills=(
            f"SELECT {columns('d.level')} "  # noqa: S608
            f"FROM {tables['skill']} d{rules} AND d.skill_id = %s "
            f"ORDER BY {_SKILL_ORDER.format(real=real)} LIMIT %s OFFSET %s"
        ),
        keys_first=postgres,
    )


def windows_text(windows) -> str:
    """Weekly windows as a candidate row carries them (what `_windows` reads back)."""
    return ",".join(
        f"{w.weekday} {w.start.isoformat()} {w.end.isoformat()}"
        for w in sorted(windows, key=lambda w: (w.weekday, w.start, w.end))
    )


def _windows(text: str | None, days: tuple[int, ...]) -> list[_Window]:
    """The windows of a candidate row on `days`, by weekday, start and end."""
    windows = []
    for item in (text or "").split(","):
        if item:
            day, start, end = item.split(" ")
            if int(day) in days:
                windows.append(
                    _Window(int(day), time.fromisoformat(start), time.fromisoformat(end))
                )
    return sorted(windows, key=lambda w: (w.weekday, w.start, w.end))


class _Candidate:
    __slots__ = (
        "pk",
        "shared",
        "zone",
        "max_cases",
        "open_cases",
        "response",
        "level",
        "windows",
        "shift_end",
        "_until",
    )

    def __init__(
        self,
        pk: int,
        shared: bool,
        zone: str,
        max_cases: int,
        open_cases: int,
        response: int | None,
        level: int,
        windows: str | None,
    ) -> None:
        self.pk, self.shared, self.zone, self.level = pk, shared, zone, level
        self.max_cases, self.open_cases, self.response = max_cases, open_cases, response
        self.windows = windows
        self.shift_end: datetime | None = None
        self._until: tuple[datetime, time | None] | None = None

    def until(self, now: datetime) -> time | None:
        if self._until is None or self._until[0] != now:
            until = None
            if self.windows:
                # Only windows of the volunteer's today and yesterday can hold `now`.
                today, yesterday, _clock = _local_clock(self.zone, now)
                windows = _windows(self.windows, (today, yesterday))
                until = available_until(windows, self.zone, now)
            self._until = (now, until)
        return self._until[1]

    def sort_key(self, now: datetime) -> tuple:
        """The ranking, best first (see the module's docstring)."""
        return (
            0 if self.shared else 1,
            0 if self.shift_end else 1,
            -(self.level or 0),
            0 if self.until(now) else 1,
            -free_share(self.max_cases, self.open_cases),
            self.response if self.response is not None else UNKNOWN_RESPONSE_SECONDS,
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


_LEVEL = 6  # a row's level, in _COLUMNS
# Rows in a page of a walk, per match wanted: a night's best level fits in the first.
_PAGE_PER_MATCH = 16


def _walk(
    sql: str, params: list, language: str | None, *, enough: int, skip: set[int], now: datetime
) -> list[_Candidate]:
    """Candidates from `sql` (rows best level first, then in the order of the later keys
    the database knows), not counting those in `skip`: the first `enough` of them in the
    ranking's order. Within a level the ranking puts those available now first, so the walk
    stops as soon as higher levels and this level's available ones are `enough`; otherwise
    it reads the level to its end (available ones first, then the rest, each in the order
    read), and the next level only if that is still too few.

    `sql` ends in LIMIT and OFFSET: it is read a page at a time (PostgreSQL's cursor would
    otherwise send every row at once; SQLite computes only the rows fetched). `skip` gains
    the ids read."""
    taken: list[_Candidate] = []
    available: list[_Candidate] = []
    rest: list[_Candidate] = []
    level = None
    page, offset = _PAGE_PER_MATCH * enough, 0
    with prepared.cursor() as cursor:
        while True:
            cursor.execute(sql, [*params, page, offset])
            read = 0
            while batch := cursor.fetchmany(4 * enough + 8):
                read += len(batch)
                for row in batch:
                    if row[0] in skip:
                        continue
                    skip.add(row[0])  # a later page may repeat a row that moved meanwhile
                    if row[_LEVEL] != level:  # a level read to its end
                        taken += (available + rest)[: enough - len(taken)]
                        if len(taken) >= enough:
                            return taken
                        available, rest, level = [], [], row[_LEVEL]
                    candidate = _candidate(row, language)
                    if candidate.until(now):
                        available.append(candidate)
                        if len(taken) + len(available) >= enough:
                            return taken + available
                    else:
                        rest.append(candidate)
            if read < page:
                return taken + (available + rest)[: enough - len(taken)]
            offset += page


@lru_cache(maxsize=16)
def _profile_reader(vendor: str, count: int) -> tuple[str, list, list, list]:
    """The statement reading `count` profiles with their users, each table's field names
    and each column's converters: what `select_related("user").in_bulk()` does, written
    once per process (building that query cost more than the rest of the ranking)."""
    from krov.accounts.models import User

    tables = _tables()
    quote = connection.ops.quote_name
    profile_fields = list(VolunteerProfile._meta.concrete_fields)
    user_fields = list(User._meta.concrete_fields)
    columns = [f"p.{quote(str(f.column))}" for f in profile_fields]
    columns += [f"u.{quote(str(f.column))}" for f in user_fields]
    converters = []  # (position, column, functions) of the columns that have any
    for position, model_field in enumerate(profile_fields + user_fields):
        column = model_field.get_col(model_field.model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, column, functions))
    sql = (
        f"SELECT {', '.join(columns)} FROM {tables['profile']} p "  # noqa: S608
        f"JOIN {tables['user']} u ON u.id = p.user_id "
        f"WHERE p.id IN ({', '.join(['%s'] * count)})"
    )
    return (
        sql,
        [f.attname for f in profile_fields],
        [f.attname for f in user_fields],
        converters,
    )


def _profiles(pks: list[int]) -> dict[int, VolunteerProfile]:
    """The profiles `pks` with their users, by id, as the ORM would build them."""
    from krov.accounts.models import User

    sql, profile_names, user_names, converters = _profile_reader(connection.vendor, len(pks))
    with prepared.cursor() as cursor:
        cursor.execute(sql, pks)
        rows = cursor.fetchall()
    user_field = VolunteerProfile._meta.get_field("user")
    found = {}
    for row in rows:
        values = list(row)
        for position, column, functions in converters:
            for convert in functions:
                values[position] = convert(values[position], column, connection)
        profile = VolunteerProfile.from_db(
            connection.alias, profile_names, values[: len(profile_names)]
        )
        user = User.from_db(connection.alias, user_names, values[len(profile_names) :])
        user_field.set_cached_value(profile, user)
        user_field.remote_field.set_cached_value(user, profile)
        found[profile.pk] = profile
    return found


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
    number of volunteers (a fourth for those not sharing the language, when fewer than
    `limit` share it):

    - the candidates on shift now, at any level, with their shift's end (few: a shift
      lasts hours);
    - the candidates who share the language, walked in the ranking's order through the
      match keys' index until `limit` of them are certain to come first: nobody further
      down can come before those (the order is language, shift, level, then the rest);
    - only if that is fewer than `limit`, the same walk over the skill's holders;
    - the winners as objects.

    Each candidate row carries its weekly windows. The order itself is computed here, for
    these few, exactly as for everyone before: the same keys, the volunteer's id breaking
    ties."""
    now = now or timezone.now()
    # Only windows that can contain `now` in some time zone: UTC's weekday, one either side,
    # and the day before those for windows that run past midnight.
    utc_day = now.astimezone(UTC).weekday()
    days = tuple(sorted({(utc_day + offset) % 7 for offset in (-2, -1, 0, 1)}))
    sql = _statements(connection.vendor, request.sensitivity > Sensitivity.LOW, days)
    rule_params = _rule_params(request)
    moment = connection.ops.adapt_datetimefield_value(now)
    found: dict[int, _Candidate] = {}
    with prepared.cursor() as cursor:
        cursor.execute(sql.shift, [request.skill_id, *rule_params, moment, moment])
        for *row, ends_at in cursor.fetchall():
            candidate = found.setdefault(row[0], _candidate(row, request.language))
            ends_at = _when(ends_at)
            candidate.shift_end = max(ends_at, candidate.shift_end or ends_at)
    shared = _walk(
        sql.keys,
        sql.key_params(rule_params, request.skill_id, request.language),
        None,
        enough=limit,
        skip=set(found),
        now=now,
    )
    found.update((candidate.pk, candidate) for candidate in shared)
    if not shared_language_only and sum(c.shared for c in found.values()) < limit:
        # Everyone who shares the language is found by now: the others, at any level.
        others = _walk(
            sql.skills,
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
    profiles = _profiles([candidate.pk for _key, candidate in scored])
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
