"""The match keys: what ranking walks instead of every profile (krov.aid.matching).

A row per skill and language of a volunteer, carrying copies of the profile's load (free
capacity and answer time) so that one index holds the ranking's order, and of its weekly
windows. The copies must be exact: every service that changes a profile's languages,
skills, windows, `max_cases`, `open_cases` or `response_seconds` calls one of these in the
same transaction, and nothing else writes the table (tests/aid/test_match_keys.py pins
each path).
"""

from __future__ import annotations

from krov.aid.matching import free_share, windows_text
from krov.aid.models import (
    AvailabilityWindow,
    VolunteerMatchKey,
    VolunteerProfile,
    VolunteerSkill,
)


def sync_match_keys(profile: VolunteerProfile) -> None:
    """Rewrite the volunteer's match keys from the profile (languages, skills, load,
    windows)."""
    VolunteerMatchKey.objects.filter(volunteer=profile).delete()
    languages = sorted(set(profile.languages or []))
    free, response = _load(profile.pk)
    windows = windows_text(AvailabilityWindow.objects.filter(volunteer=profile))
    VolunteerMatchKey.objects.bulk_create(
        VolunteerMatchKey(
            volunteer=profile,
            skill_id=skill_id,
            language=language,
            level=level,
            free=free,
            response=response,
            windows=windows,
        )
        for skill_id, level in VolunteerSkill.objects.filter(volunteer=profile).values_list(
            "skill_id", "level"
        )
        for language in languages
    )


def sync_load(profile_id: int) -> None:
    """Copy the volunteer's load, as it is now in this transaction, onto their match keys:
    after any UPDATE of `open_cases`, `max_cases` or `response_seconds`. (On PostgreSQL the
    UPDATE that came before holds the profile's row lock until commit, so two concurrent
    changes write their copies in the order of their changes.)"""
    free, response = _load(profile_id)
    VolunteerMatchKey.objects.filter(volunteer_id=profile_id).update(free=free, response=response)


def _load(profile_id: int) -> tuple[float, int]:
    row = (
        VolunteerProfile.objects.filter(pk=profile_id)
        .values_list("max_cases", "open_cases", "response_seconds")
        .first()
    )
    if row is None:
        return 0.0, 3600
    max_cases, open_cases, response = row
    return free_share(max_cases, open_cases), 3600 if response is None else response
