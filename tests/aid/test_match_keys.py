"""The match keys (krov/aid/services/match_keys.py) copy each volunteer's languages, skill
levels and load exactly: through every service that changes them, and from the migration
that fills them. Ranking walks them, so a stale copy would rank wrongly; the walk against
the reference that scores every candidate is in test_matching_walk.py, and below with
data drawn by hypothesis."""

from __future__ import annotations

import importlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krov.aid import matching, services
from krov.aid.models import (
    AvailabilityWindow,
    HelpRequest,
    Sensitivity,
    TrustLevel,
    VolunteerMatchKey,
    VolunteerProfile,
    VolunteerSkill,
)
from krov.aid.services import match_keys
from tests.aid.test_matching_walk import reference

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 6, 0, tzinfo=ZoneInfo("UTC"))  # a Monday


def expected_keys() -> set[tuple]:
    """The keys as the profiles and their skills say they must be."""
    profiles = {p.pk: p for p in VolunteerProfile.objects.all()}
    windows = {
        pk: matching.windows_text(AvailabilityWindow.objects.filter(volunteer_id=pk))
        for pk in profiles
    }
    keys = set()
    for volunteer_id, skill_id, level in VolunteerSkill.objects.values_list(
        "volunteer_id", "skill_id", "level"
    ):
        profile = profiles[volunteer_id]
        free = matching.free_share(profile.max_cases, profile.open_cases)
        response = 3600 if profile.response_seconds is None else profile.response_seconds
        for language in set(profile.languages):
            keys.add((volunteer_id, skill_id, language, level, free, response, windows[profile.pk]))
    return keys


def stored_keys() -> set[tuple]:
    return set(
        VolunteerMatchKey.objects.values_list(
            "volunteer_id", "skill_id", "language", "level", "free", "response", "windows"
        )
    )


def test_every_service_that_changes_a_load_keeps_the_match_keys_exact(
    submit, make_volunteer, coordinator, skills
):
    veter = make_volunteer("Veter", languages=["uk", "ru"], max_cases=3)
    other = make_volunteer("Other", skill_levels={"driving": 1, "legal": 3})
    assert stored_keys() == expected_keys()
    first, _t = submit()
    services.assign(first, veter, actor=coordinator)  # open_cases 1 of 3
    assert stored_keys() == expected_keys()
    second, _t = submit()
    services.triage(second, actor=coordinator)
    with time_machine.travel(START, tick=False):
        offer = services.offer(second, actor=coordinator, volunteer=veter)
    with time_machine.travel(START + timedelta(minutes=7), tick=False):
        services.accept_offer(offer, actor=veter.user)  # open_cases 2, answers in 7 min
    veter.refresh_from_db()
    assert (veter.open_cases, veter.response_seconds) == (2, 420)
    assert stored_keys() == expected_keys()
    services.hand_over(first, actor=veter.user, reason="I cannot drive this week")
    assert stored_keys() == expected_keys()
    services.close_case(second, actor=coordinator, outcome=HelpRequest.Outcome.HELPED)
    assert stored_keys() == expected_keys()
    third, _t = submit()
    services.assign(third, other, actor=coordinator)
    services.update_profile(
        other,
        actor=other.user,
        languages=["en"],
        max_cases=4,
        time_zone="Europe/Kyiv",
        paused=False,
        skills={skills["driving"].pk: 3},
        windows=[(0, time(9), time(17))],
    )
    assert stored_keys() == expected_keys()
    services.release_after_panic(other.user)
    assert stored_keys() == expected_keys()
    assert VolunteerProfile.objects.get(pk=other.pk).open_cases == 0


def test_the_migrations_fill_every_key_with_its_volunteers_load_and_windows(make_volunteer):
    busy = make_volunteer(
        "Busy",
        languages=["uk", "en"],
        max_cases=3,
        windows=[(2, "18:00", "22:00"), (0, "21:00", "02:00"), (2, "09:00", "12:30")],
    )
    make_volunteer("Idle", skill_levels={"legal": 2, "housing": 1})
    VolunteerProfile.objects.filter(pk=busy.pk).update(open_cases=2, response_seconds=95)
    # As before the migrations: no load, no windows.
    VolunteerMatchKey.objects.update(free=0.0, response=3600, windows="")
    for name in ("0012_fill_match_key_load", "0015_fill_match_key_windows"):
        importlib.import_module(f"krov.aid.migrations.{name}").fill(
            apps, connection.schema_editor()
        )
    assert stored_keys() == expected_keys()
    assert VolunteerMatchKey.objects.filter(volunteer=busy, free=1 / 3, response=95).count() == 2
    assert VolunteerMatchKey.objects.get(volunteer=busy, language="en").windows == (
        "0 21:00:00 02:00:00,2 09:00:00 12:30:00,2 18:00:00 22:00:00"
    )


volunteer = st.fixed_dictionaries(
    {
        # Few languages and levels: many candidates on one level, so that the walk stops
        # before the level's end, where a stale load would show.
        "languages": st.lists(st.sampled_from(["uk", "ru", "en"]), min_size=1, unique=True),
        "levels": st.fixed_dictionaries(
            {"driving": st.integers(2, 3)}, optional={"legal": st.integers(2, 3)}
        ),
        # Hypothesis starts from the first value of each list: a load that differs from a
        # new profile's (0 open cases), so that a copy left stale would show.
        "max_cases": st.sampled_from([3, 2, 4, 1]),
        "open": st.sampled_from([1, 2, 0, 3]),  # open cases, at most max_cases - 1
        # Few values, so that loads and answer times tie and the id decides.
        "response": st.sampled_from([60, None, 3600]),
        "zone": st.sampled_from(["Europe/Belgrade", "Asia/Tokyo", "America/New_York"]),
        # (weekday, hour, hours): often every day from 00:00 to 23:30, so that enough
        # volunteers are available now for the walk to stop early.
        "windows": st.one_of(
            st.just([(day, 0, 23) for day in range(7)]),
            st.lists(
                st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(1, 14)), max_size=2
            ),
        ),
        "trust": st.sampled_from([TrustLevel.REGULAR, TrustLevel.PROBATION]),
        "paused": st.sampled_from([False, False, False, True]),
        "shift": st.one_of(st.none(), st.integers(0, 40)),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    volunteers=st.lists(volunteer, min_size=6, max_size=12),
    language=st.sampled_from(["uk", "ru"]),
    skill=st.sampled_from(["driving", "legal"]),
    sensitivity=st.sampled_from(Sensitivity.values),
    hours=st.integers(0, 47),
    limit=st.integers(1, 4),
)
def test_the_walk_over_the_match_keys_ranks_as_scoring_every_candidate(
    volunteers, language, skill, sensitivity, hours, limit, submit, make_volunteer, coordinator
):
    now = START + timedelta(hours=hours, minutes=17)
    with transaction.atomic():
        for index, drawn in enumerate(volunteers):
            profile = make_volunteer(
                f"H{index}",
                languages=drawn["languages"],
                skill_levels=drawn["levels"],
                trust=drawn["trust"],
                max_cases=drawn["max_cases"],
                time_zone=drawn["zone"],
                windows=[
                    (day, f"{hour:02d}:00", f"{(hour + length) % 24:02d}:30")
                    for day, hour, length in drawn["windows"]
                ],
                paused=drawn["paused"],
            )
            VolunteerProfile.objects.filter(pk=profile.pk).update(
                open_cases=min(drawn["open"], drawn["max_cases"] - 1),
                response_seconds=drawn["response"],
            )
            match_keys.sync_load(profile.pk)
            if drawn["shift"] is not None:
                with time_machine.travel(START + timedelta(hours=drawn["shift"]), tick=False):
                    services.start_shift(profile, actor=profile.user, hours=8)
        case, _token = submit(language=language, skill=skill)
        services.triage(case, actor=coordinator, sensitivity=sensitivity)
        case.refresh_from_db()
        for shared_only in (False, True):
            ranked = matching.rank(case, limit=limit, now=now, shared_language_only=shared_only)
            want = reference(case, limit=limit, now=now, shared_language_only=shared_only)
            assert [m.volunteer.pk for m in ranked] == want
            for match in ranked:
                assert match.shared_language == (language in match.volunteer.languages)
                assert match.explanation.startswith(
                    f"{language} ✓" if match.shared_language else f"{language} ✗"
                )
        transaction.set_rollback(True)


def test_the_ranked_profiles_are_those_the_orm_reads(make_volunteer, submit):
    make_volunteer("Ana", languages=["uk", "ru"], windows=[(2, "18:00", "22:00")])
    make_volunteer("Boris", max_cases=3)
    case, _token = submit()
    ranked = matching.rank(case, now=START)
    orm = VolunteerProfile.objects.select_related("user").in_bulk()
    assert ranked
    for match in ranked:
        want = orm[match.volunteer.pk]
        for model in (VolunteerProfile, type(want.user)):
            got_obj = match.volunteer if model is VolunteerProfile else match.volunteer.user
            want_obj = want if model is VolunteerProfile else want.user
            for model_field in model._meta.concrete_fields:
                name = model_field.attname
                assert getattr(got_obj, name) == getattr(want_obj, name), name
        assert not match.volunteer._state.adding
        assert match.volunteer._state.db == want._state.db
        assert match.volunteer.user.volunteer_profile is match.volunteer
