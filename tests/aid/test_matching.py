"""krov.aid.matching: who is offered a request first, and why."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from krov.aid import matching, services
from krov.aid.models import AvailabilityWindow, Sensitivity, TrustLevel

pytestmark = pytest.mark.django_db

# A Wednesday evening in Belgrade (19:30 local, 18:30 UTC).
WEDNESDAY_EVENING = datetime(2026, 11, 25, 18, 30, tzinfo=ZoneInfo("UTC"))


def names(matches):
    return [m.volunteer.user.pseudonym for m in matches]


def test_shared_language_outranks_a_higher_skill_level(submit, make_volunteer):
    make_volunteer("Expert", languages=["en"], skill_levels={"driving": 3})
    make_volunteer("Speaker", languages=["uk"], skill_levels={"driving": 1})
    case, _token = submit(language="uk")
    assert names(matching.rank(case, now=WEDNESDAY_EVENING)) == ["Speaker", "Expert"]


def test_among_speakers_the_higher_level_comes_first(submit, make_volunteer):
    make_volunteer("Basic", skill_levels={"driving": 1})
    make_volunteer("Good", skill_levels={"driving": 2})
    make_volunteer("Expert", skill_levels={"driving": 3})
    case, _token = submit()
    assert names(matching.rank(case, now=WEDNESDAY_EVENING)) == ["Expert", "Good", "Basic"]


def test_volunteers_without_the_skill_paused_or_full_are_not_offered(
    submit, make_volunteer, coordinator
):
    make_volunteer("Lawyer", skill_levels={"legal": 3})
    make_volunteer("Resting", paused=True)
    full = make_volunteer("Busy", max_cases=1)
    make_volunteer("Free")
    other, _t = submit("another request")
    services.assign(other, full, actor=coordinator)
    case, _token = submit()
    assert names(matching.rank(case, now=WEDNESDAY_EVENING)) == ["Free"]


def test_probation_sees_only_low_sensitivity_requests(submit, make_volunteer, coordinator):
    make_volunteer("Newbie", trust=TrustLevel.PROBATION)
    case, _token = submit()
    assert case.sensitivity == Sensitivity.NORMAL
    assert names(matching.rank(case)) == []
    services.triage(case, actor=coordinator, sensitivity=Sensitivity.LOW)
    assert names(matching.rank(case)) == ["Newbie"]


def test_available_now_in_their_own_time_zone_comes_first(submit, make_volunteer):
    make_volunteer("Tokyo", time_zone="Asia/Tokyo", windows=[(2, "18:00", "22:00")])
    make_volunteer("Belgrade", time_zone="Europe/Belgrade", windows=[(2, "18:00", "22:00")])
    case, _token = submit()
    ranked = matching.rank(case, now=WEDNESDAY_EVENING)
    assert names(ranked) == ["Belgrade", "Tokyo"]
    assert ranked[0].available_until == time(22, 0)
    assert ranked[1].available_until is None  # 03:30 on Thursday in Tokyo


def test_on_shift_beats_everything_but_the_language(submit, make_volunteer):
    make_volunteer("Expert", skill_levels={"driving": 3}, windows=[(2, "00:00", "23:59")])
    shifted = make_volunteer("OnShift", skill_levels={"driving": 1})
    foreign = make_volunteer("Foreign", languages=["en"], skill_levels={"driving": 3})
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        services.start_shift(shifted, actor=shifted.user, hours=4)
        services.start_shift(foreign, actor=foreign.user, hours=4)
        case, _token = submit()
        ranked = matching.rank(case)
        shared_only = matching.rank(case, shared_language_only=True)
    assert names(ranked) == ["OnShift", "Expert", "Foreign"]
    assert "on shift" in ranked[0].explanation
    assert names(shared_only) == ["OnShift", "Expert"]


def test_a_volunteer_without_the_language_is_listed_apart_and_never_offered_in_turn(
    submit, make_volunteer, coordinator
):
    from tests.helpers import signed_in, soup

    foreign = make_volunteer("Foreign", languages=["en"], skill_levels={"driving": 3})
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        services.start_shift(foreign, actor=foreign.user, hours=4)
        case, _token = submit(language="uk")
        services.triage(case, actor=coordinator)
        page = soup(signed_in(coordinator).get(f"/en/aid/cases/{case.public_id}/"))
        assert [li.strong.get_text() for li in page.select("ol.matches li.match")] == []
        apart = page.select("ul.without-language li.match")
        assert [li.strong.get_text() for li in apart] == ["Foreign"]
        assert "Ukrainian" in page.select_one("ul.without-language").find_previous("p").get_text()
        assert services.offer(case, actor=coordinator) is None  # nobody to offer it to in turn


def test_explanation_says_language_level_load_and_hours(submit, make_volunteer):
    make_volunteer(
        "Veter", skill_levels={"driving": 3}, max_cases=3, windows=[(2, "18:00", "22:00")]
    )
    case, _token = submit(language="uk")
    (match,) = matching.rank(case, now=WEDNESDAY_EVENING)
    assert match.explanation == "uk ✓, ★★★, 0/3 cases, available until 22:00"


def test_ranking_is_deterministic_for_equal_volunteers(submit, make_volunteer):
    for name in ["Ana", "Boris", "Cveta", "Dana", "Eva", "Filip"]:
        make_volunteer(name)
    case, _token = submit()
    first = names(matching.rank(case, now=WEDNESDAY_EVENING, limit=5))
    assert len(first) == 5
    for _ in range(3):
        assert names(matching.rank(case, now=WEDNESDAY_EVENING, limit=5)) == first


def test_ranking_takes_a_fixed_number_of_queries(
    submit, make_volunteer, django_assert_max_num_queries
):
    for index in range(12):
        make_volunteer(f"V{index}", windows=[(2, "18:00", "22:00"), (3, "09:00", "12:00")])
    case, _token = submit()
    with django_assert_max_num_queries(4):
        assert len(matching.rank(case, now=WEDNESDAY_EVENING)) == 5


def test_a_decline_moves_the_offer_on_and_nobody_is_asked_twice(
    submit, make_volunteer, coordinator
):
    first = make_volunteer("First", skill_levels={"driving": 3})
    second = make_volunteer("Second", skill_levels={"driving": 1})
    case, _token = submit()
    offer = services.offer(case, actor=coordinator)
    assert offer.volunteer == first
    services.decline_offer(offer, actor=first.user)
    pending = case.offers.get(status="pending")
    assert pending.volunteer == second and pending.rank == 2
    assert names(matching.rank(case)) == []


@given(
    weekday=st.integers(0, 6),
    start=st.times(),
    end=st.times(),
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(ZoneInfo("UTC")),
    ),
)
def test_available_until_agrees_with_a_minute_by_minute_reading(weekday, start, end, moment):
    start, end = start.replace(microsecond=0, second=0), end.replace(microsecond=0, second=0)
    if start == end:
        return
    window = AvailabilityWindow(weekday=weekday, start=start, end=end)
    local = moment.astimezone(ZoneInfo("Europe/Belgrade"))
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = local.weekday() == weekday and start <= clock < end
    else:
        inside = (local.weekday() == weekday and clock >= start) or (
            (local.weekday() - 1) % 7 == weekday and clock < end
        )
    result = matching.available_until([window], "Europe/Belgrade", moment)
    assert (result == end) if inside else (result is None)


def test_unknown_time_zone_does_not_break_ranking(submit, make_volunteer):
    profile = make_volunteer("Odd", windows=[(2, "18:00", "22:00")])
    type(profile).objects.filter(pk=profile.pk).update(time_zone="Mars/Olympus")
    case, _token = submit()
    assert names(matching.rank(case, now=timezone.now())) == ["Odd"]


@given(
    st.dictionaries(
        st.sampled_from(
            [f"day{d}_{s}_{e}" for d in range(7) for s in range(3) for e in ("from", "until")]
        ),
        st.one_of(
            st.times().map(lambda t: t.strftime("%H:%M")),
            st.text(max_size=8),
        ),
        max_size=10,
    )
)
@example({"day0_0_from": "00:00:30", "day0_0_until": "00:00"})
def test_the_weekly_picker_either_gives_windows_or_names_the_bad_field(fields):
    from krov.aid.forms import ProfileForm

    form = ProfileForm(
        {"languages": ["uk"], "max_cases": "2", "time_zone": "Europe/Belgrade", **fields}
    )
    if form.is_valid():
        for day, start, end in form.cleaned_data["windows"]:
            assert 0 <= day <= 6 and start != end
        assert len(form.cleaned_data["windows"]) <= len(fields) // 2
    else:
        # Each error sits at a field of the day it is about (the missing half of a pair).
        days = {name.split("_")[0] for name in fields}
        assert form.errors and {name.split("_")[0] for name in form.errors} <= days
