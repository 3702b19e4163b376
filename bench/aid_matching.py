"""Matching benchmark: 5,000 volunteers and 20,000 open requests, on SQLite (a fresh file)
or on the PostgreSQL database BENCH_DATABASE_URL names.

Prints the time to rank the top 5 volunteers for a request (p50/p95), at desk hours and at
night, as a ratio against one indexed SELECT on the same database in the same run (wall
clock, and the thread's CPU time beside it: on a loaded machine the p95 of the first mostly
measures waits for a core), and the query counts of the triage queue and the volunteer
console with 100 and with 20,000 requests (they must be equal).
Run with `make bench` or `python -m bench.aid_matching`. On PostgreSQL:
`BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/krov_bench_matching python -m
bench.aid_matching` drops and re-creates that database (its name must start with
"krov_bench"), migrates, runs the same measurement after an ANALYZE, and drops it at the
end (BENCH_KEEP_DATABASE=1 keeps it, e.g. to EXPLAIN the walk). BENCH_VOLUNTEERS,
BENCH_REQUESTS and BENCH_SAMPLES change the sizes.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime
from datetime import time as clock

from bench import postgres

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "5000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
# A PostgreSQL database to run on instead of a fresh SQLite file (dropped and re-created).
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
KEEP_DATABASE = os.environ.get("BENCH_KEEP_DATABASE", "") == "1"


def setup() -> None:
    """`bench.__main__.setup()` (fresh data directory, settings, migrate), on the database
    BENCH_DATABASE_URL names if any; the database in use is checked afterwards."""
    from bench.__main__ import setup as bench_setup

    if not DATABASE_URL:
        bench_setup()
        return
    name = postgres.parse(DATABASE_URL)[0]
    bench_setup(database_url=DATABASE_URL)
    from django.db import connection

    if connection.vendor != "postgresql" or connection.settings_dict["NAME"] != name:
        raise SystemExit(f"bench setup did not use {name} (got {connection.vendor})")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def make_volunteers(count: int, rng: random.Random) -> None:
    from allauth.mfa.models import Authenticator
    from django.contrib.auth.models import Group

    from krov.accounts.models import User
    from krov.aid.matching import UNKNOWN_RESPONSE_SECONDS, free_share, windows_text
    from krov.aid.models import (
        AID_LANGUAGES,
        AvailabilityWindow,
        Skill,
        TrustLevel,
        VolunteerMatchKey,
        VolunteerProfile,
        VolunteerSkill,
    )

    skills = list(Skill.objects.all())
    languages = list(AID_LANGUAGES)
    users = User.objects.bulk_create(
        User(email=f"v{i}@bench.local", pseudonym=f"Volunteer{i}", password="!")
        for i in range(count)
    )
    # Every path to case content needs a second factor: without one nobody is a candidate.
    Authenticator.objects.bulk_create(
        Authenticator(user=user, type=Authenticator.Type.TOTP, data={"secret": "bench"})
        for user in users
    )
    group = Group.objects.get(name="volunteer")
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=group.pk) for user in users
    )
    profiles = VolunteerProfile.objects.bulk_create(
        VolunteerProfile(
            user=user,
            languages=rng.sample(languages, rng.randint(1, 3)),
            max_cases=rng.randint(1, 4),
            open_cases=rng.randint(0, 1),
            trust=rng.choice(list(TrustLevel.values)),
            paused=rng.random() < 0.1,
            response_seconds=rng.randint(60, 7200),
            time_zone=rng.choice(
                ["Europe/Belgrade", "Europe/Kyiv", "Europe/Berlin", "Asia/Tbilisi"]
            ),
        )
        for user in users
    )
    held = VolunteerSkill.objects.bulk_create(
        VolunteerSkill(volunteer=profile, skill=skill, level=rng.randint(1, 3))
        for profile in profiles
        for skill in rng.sample(skills, rng.randint(1, 3))
    )
    # What the profile service writes beside the skills (bulk rows bypass it): a key per
    # skill and language, with the profile's load (services.match_keys).
    load = {
        p.pk: (
            free_share(p.max_cases, p.open_cases),
            UNKNOWN_RESPONSE_SECONDS if p.response_seconds is None else p.response_seconds,
        )
        for p in profiles
    }
    languages = {profile.pk: profile.languages for profile in profiles}
    windows = [
        AvailabilityWindow(volunteer=profile, weekday=day, start=clock(9), end=clock(21))
        for profile in profiles
        for day in rng.sample(range(7), 3)
    ]
    by_volunteer: dict[int, list] = {profile.pk: [] for profile in profiles}
    for window in windows:
        by_volunteer[window.volunteer_id].append(window)
    weekly = {pk: windows_text(held_windows) for pk, held_windows in by_volunteer.items()}
    VolunteerMatchKey.objects.bulk_create(
        VolunteerMatchKey(
            volunteer_id=row.volunteer_id,
            skill_id=row.skill_id,
            language=code,
            level=row.level,
            free=load[row.volunteer_id][0],
            response=load[row.volunteer_id][1],
            windows=weekly[row.volunteer_id],
        )
        for row in held
        for code in languages[row.volunteer_id]
    )
    AvailabilityWindow.objects.bulk_create(windows)


def make_requests(count: int, rng: random.Random, start: int) -> None:
    from krov.aid.models import HelpRequest, Skill

    skills = list(Skill.objects.all())
    HelpRequest.objects.bulk_create(
        (
            HelpRequest(
                code=f"B-{start + i:07d}",
                language=rng.choice(["uk", "ru", "en", "sr"]),
                skill=rng.choice(skills),
                urgency=rng.randint(0, 3),
                description="Benchmark request text " * 5,
                status=rng.choice(["new", "triaged"]),
            )
            for i in range(count)
        ),
        batch_size=2000,
    )


def page_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def main() -> None:
    if not DATABASE_URL:
        setup()
        measure()
        return
    name, admin_url = postgres.parse(DATABASE_URL)
    postgres.recreate(admin_url, name, create=True)
    try:
        setup()
        measure()
    finally:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        if not KEEP_DATABASE:
            postgres.recreate(admin_url, name, create=False)


def measure() -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.test import Client

    from krov.accounts import services as account_services
    from krov.aid import matching, services
    from krov.aid.models import HelpRequest
    from krov.aid.services.match_keys import sync_load

    rng = random.Random(2026)  # noqa: S311 - benchmark data, not security
    coordinator = account_services.create_account(
        email="c@bench.local", pseudonym="Coord", password=None, roles=["coordinator"]
    )
    desk_volunteer = account_services.create_account(
        email="dv@bench.local", pseudonym="DeskVolunteer", password=None, roles=["member"]
    )
    for user in (coordinator, desk_volunteer):
        TOTP.activate(user, generate_totp_secret())
    profile = services.vouch_for(desk_volunteer, actor=coordinator, languages=["uk"])
    profile.max_cases = 20
    profile.save(update_fields=["max_cases"])
    sync_load(profile.pk)
    services.set_trust(profile, 1, actor=coordinator)

    started = time.perf_counter()
    make_volunteers(VOLUNTEERS, rng)
    make_requests(100, rng, 0)
    for case in HelpRequest.objects.order_by("pk")[:5]:
        services.assign(case, profile, actor=coordinator)
    for case in HelpRequest.objects.filter(status="new").order_by("pk")[:5]:
        services.offer(case, actor=coordinator, volunteer=profile)
    desk = Client()
    desk.force_login(coordinator, backend="krov.accounts.backends.KrovBackend")
    helper = Client()
    helper.force_login(desk_volunteer, backend="krov.accounts.backends.KrovBackend")
    small = {
        "triage": page_queries(desk, "/en/aid/triage/"),
        "console": page_queries(helper, "/en/aid/"),
    }
    make_requests(REQUESTS - 100, rng, 100)
    large = {
        "triage": page_queries(desk, "/en/aid/triage/"),
        "console": page_queries(helper, "/en/aid/"),
    }
    from django.db import connection

    if connection.vendor == "postgresql":
        # As autovacuum would have by now on a running site: the planner's statistics of
        # the bulk-inserted tables (without them the plans depend on when autovacuum ran).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        database = (
            f"PostgreSQL {connection.pg_version // 10000}, {connection.settings_dict['NAME']}"
        )
    else:
        database = f"SQLite {connection.Database.sqlite_version}"
    print(
        f"data: {VOLUNTEERS} volunteers, {REQUESTS} open requests on {database} "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )

    ids = list(HelpRequest.objects.values_list("pk", flat=True))
    sample = [HelpRequest.objects.get(pk=pk) for pk in rng.sample(ids, SAMPLES)]
    codes = [case.code for case in sample]

    # Wall-clock time (the goal's measure) and, beside it, the CPU time of this thread: on a
    # machine loaded by others, a call that waits for a core shows in the first only.
    baseline, baseline_cpu = [], []
    for code in codes:
        begin, begin_cpu = time.perf_counter(), time.thread_time()
        list(HelpRequest.objects.filter(code=code).values_list("pk", flat=True))
        baseline.append(time.perf_counter() - begin)
        baseline_cpu.append(time.thread_time() - begin_cpu)
    # Ranking depends on the moment (who is on their weekly hours): a weekday at desk hours,
    # when many volunteers are available, and a night, when nobody in these data is.
    moments = {
        "desk hours": datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
        "night": datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
    }
    base50 = statistics.median(baseline)
    cpu50 = statistics.median(baseline_cpu)
    print(f"{'measure':<36} {'ms':>8} {'× indexed SELECT':>17}")
    print(f"{'indexed SELECT by code (baseline)':<36} {base50 * 1000:>8.3f} {1.0:>17.1f}")
    base95 = percentile(baseline, 0.95)
    print(f"{'indexed SELECT, p95 (load)':<36} {base95 * 1000:>8.3f} {base95 / base50:>17.1f}")
    cpu_rows = []
    for label, moment in moments.items():
        ranking, ranking_cpu, candidates = [], [], []
        for case in sample:
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            top = matching.rank(case, limit=5, now=moment)
            ranking.append(time.perf_counter() - begin)
            ranking_cpu.append(time.thread_time() - begin_cpu)
            candidates.append(len(top))
        p50, p95 = statistics.median(ranking), percentile(ranking, 0.95)
        print(f"{'rank top 5, ' + label + ', p50':<36} {p50 * 1000:>8.2f} {p50 / base50:>17.1f}")
        print(f"{'rank top 5, ' + label + ', p95':<36} {p95 * 1000:>8.2f} {p95 / base50:>17.1f}")
        print(f"requests with 5 matches: {sum(c == 5 for c in candidates)}/{len(candidates)}")
        cpu_rows.append((label, statistics.median(ranking_cpu), percentile(ranking_cpu, 0.95)))
    print(f"{'CPU time of this thread':<36} {'ms':>8} {'× SELECT CPU':>17}")
    print(f"{'indexed SELECT by code, p50':<36} {cpu50 * 1000:>8.3f} {1.0:>17.1f}")
    for label, p50, p95 in cpu_rows:
        print(f"{'rank top 5, ' + label + ', p50':<36} {p50 * 1000:>8.2f} {p50 / cpu50:>17.1f}")
        print(f"{'rank top 5, ' + label + ', p95':<36} {p95 * 1000:>8.2f} {p95 / cpu50:>17.1f}")
    print(f"{'page queries':<36} {'100 req':>8} {REQUESTS:>8} req")
    for name in ("triage", "console"):
        print(f"{name:<36} {small[name]:>8} {large[name]:>8}")
    if small != large:
        raise SystemExit("query counts grow with the data")


if __name__ == "__main__":
    main()
