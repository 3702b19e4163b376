"""krov.aid.matching walks few volunteers (match keys, best level first) and must rank
exactly as scoring every candidate does: random volunteers, shifts, loads and moments
against a reference that reads everyone through `matching.candidates` (the ORM definition
of the hard rules) and sorts them with the original keys."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from krov.aid import matching, services
from krov.aid.models import (
    AvailabilityWindow,
    Sensitivity,
    Shift,
    TrustLevel,
    VolunteerMatchKey,
    VolunteerProfile,
    VolunteerSkill,
)
from krov.aid.services import match_keys

pytestmark = pytest.mark.django_db

ZONES = ["Europe/Belgrade", "Asia/Tokyo", "America/New_York", "Europe/Kyiv"]
LANGUAGES = ["uk", "ru", "en", "sr"]


def reference(request, *, limit, now, shared_language_only=False) -> list[int]:
    """Every candidate scored in Python, as ranking did before it walked the index."""
    rows = list(
        matching.candidates(request).values_list(
            "pk", "languages", "time_zone", "max_cases", "open_cases", "response_seconds",
            "skill_level",
        )
    )  # fmt: skip
    scored = []
    for pk, languages, zone, max_cases, open_cases, response, level in rows:
        shared = request.language in (languages or [])
        if shared_language_only and not shared:
            continue
        windows = list(AvailabilityWindow.objects.filter(volunteer_id=pk))
        until = matching.available_until(windows, zone, now)
        on_shift = Shift.objects.filter(
            volunteer_id=pk, starts_at__lte=now, ends_at__gt=now
        ).exists()
        free = (max_cases - open_cases) / max_cases if max_cases else 0
        key = (
            0 if shared else 1,
            0 if on_shift else 1,
            -(level or 0),
            0 if until else 1,
            -free,
            response if response is not None else 3600,
            pk,
        )
        scored.append(key)
    return [key[-1] for key in sorted(scored)[:limit]]


@pytest.mark.parametrize(("seed", "page"), [(1, None), (2, None), (3, None), (4, 1)])
def test_walking_the_match_keys_ranks_as_scoring_every_candidate(
    seed, page, submit, make_volunteer, coordinator, monkeypatch
):
    if page is not None:  # pages of `limit` rows: every walk reads several
        monkeypatch.setattr(matching, "_PAGE_PER_MATCH", page)
    rng = random.Random(seed)
    start = datetime(2026, 11, 23, 6, 0, tzinfo=ZoneInfo("UTC"))  # a Monday
    volunteers = []
    for index in range(30):
        profile = make_volunteer(
            f"V{seed}x{index}",
            languages=rng.sample(LANGUAGES, rng.randint(1, 2)),
            skill_levels={
                slug: rng.randint(1, 3)
                for slug in rng.sample(["driving", "legal", "housing"], rng.randint(1, 2))
            },
            trust=rng.choice(list(TrustLevel.values)),
            max_cases=rng.randint(1, 4),
            time_zone=rng.choice(ZONES),
            windows=[
                (day, f"{hour:02d}:00", f"{(hour + rng.randint(2, 14)) % 24:02d}:30")
                for day in rng.sample(range(7), 3)
                for hour in [rng.randint(0, 23)]
            ],
            paused=rng.random() < 0.1,
        )
        # A load no service reaches in a few steps (as the services do after changing it,
        # the match keys are brought up to date in the same transaction).
        VolunteerProfile.objects.filter(pk=profile.pk).update(
            open_cases=rng.randint(0, profile.max_cases),
            response_seconds=rng.choice([None, 60, 600, 3600, 7200]),
        )
        match_keys.sync_load(profile.pk)
        volunteers.append(profile)
    for profile in rng.sample(volunteers, 6):
        with time_machine.travel(start + timedelta(hours=rng.randint(0, 40)), tick=False):
            services.start_shift(profile, actor=profile.user, hours=rng.randint(1, 12))
    requests = []
    for language in LANGUAGES:
        for skill in ["driving", "legal"]:
            case, _token = submit(language=language, skill=skill)
            sensitivity = rng.choice(list(Sensitivity.values))
            services.triage(case, actor=coordinator, sensitivity=sensitivity)
            case.refresh_from_db()
            requests.append(case)
    asked = requests[0]
    services.offer(asked, actor=coordinator)  # its best match is asked: not ranked again

    for hours in range(0, 48, 7):
        now = start + timedelta(hours=hours, minutes=rng.randint(0, 59))
        for case in requests:
            for limit in (1, 5, 8):
                for shared_only in (False, True):
                    got = [
                        m.volunteer.pk
                        for m in matching.rank(
                            case, limit=limit, now=now, shared_language_only=shared_only
                        )
                    ]
                    want = reference(case, limit=limit, now=now, shared_language_only=shared_only)
                    assert got == want, (hours, case.language, limit, shared_only)


def test_match_keys_follow_the_profile(make_volunteer, skills):
    profile = make_volunteer("Keys", languages=["uk", "ru"], skill_levels={"driving": 3})
    keys = set(VolunteerMatchKey.objects.values_list("skill__slug", "language", "level"))
    assert keys == {("driving", "uk", 3), ("driving", "ru", 3)}
    services.update_profile(
        profile,
        actor=profile.user,
        languages=["en"],
        max_cases=2,
        time_zone="Europe/Belgrade",
        paused=False,
        skills={skills["legal"].pk: 1, skills["driving"].pk: 2},
        windows=[(0, time(9), time(17))],
    )
    keys = set(VolunteerMatchKey.objects.values_list("skill__slug", "language", "level"))
    assert keys == {("driving", "en", 2), ("legal", "en", 1)}
    assert VolunteerSkill.objects.filter(volunteer=profile).count() == 2
