"""Aid fixtures: skills come from the seed migration; volunteers and requests are built
through the services, as a coordinator and a requester would."""

from __future__ import annotations

from datetime import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import HelpRequest, Skill, TrustLevel, VolunteerProfile
from tests.conftest import PASSWORD


@pytest.fixture
def skills(db) -> dict[str, Skill]:
    return {skill.slug: skill for skill in Skill.objects.all()}


@pytest.fixture
def coordinator(personas):
    return personas[roles.COORDINATOR].user


@pytest.fixture
def make_volunteer(db, coordinator, skills):
    """A volunteer vouched for by the coordinator, with a profile set through the services."""

    def _make(
        name: str,
        *,
        languages=("uk",),
        skill_levels=None,
        trust=TrustLevel.REGULAR,
        max_cases=2,
        time_zone="Europe/Belgrade",
        windows=(),
        paused=False,
    ) -> VolunteerProfile:
        user = account_services.create_account(
            email=f"{name.lower()}@example.org",
            pseudonym=name,
            password=PASSWORD,
            roles=[roles.MEMBER],
            email_verified=True,
        )
        TOTP.activate(user, generate_totp_secret())  # volunteers must have a second factor
        profile = services.vouch_for(user, actor=coordinator, languages=list(languages))
        levels = skill_levels if skill_levels is not None else {"driving": 2}
        services.update_profile(
            profile,
            actor=user,
            languages=list(languages),
            max_cases=max_cases,
            time_zone=time_zone,
            paused=paused,
            skills={skills[slug].pk: level for slug, level in levels.items()},
            windows=[(day, time.fromisoformat(a), time.fromisoformat(b)) for day, a, b in windows],
        )
        if trust != profile.trust:
            services.set_trust(profile, trust, actor=coordinator)
        profile.refresh_from_db()
        return profile

    return _make


@pytest.fixture
def submit(db, skills):
    """A web request as a requester sends it; returns (request, token)."""

    def _submit(
        text: str = "My mother cannot drive; teach me so I can get my family out.",
        *,
        language: str = "uk",
        skill: str = "driving",
        urgency: int = HelpRequest.Urgency.HIGH,
    ) -> tuple[HelpRequest, str]:
        submitted = services.submit_request(
            channel=HelpRequest.Channel.WEB,
            language=language,
            skill=skills[skill],
            description=text,
            urgency=urgency,
        )
        return submitted.request, submitted.token

    return _submit


@pytest.fixture
def active_case(submit, make_volunteer, coordinator):
    """A case taken by volunteer Veter: (case, token, volunteer profile)."""
    volunteer = make_volunteer("Veter")
    case, token = submit()
    services.triage(case, actor=coordinator)
    offer = services.offer(case, actor=coordinator, volunteer=volunteer)
    assert offer is not None
    case = services.accept_offer(offer, actor=volunteer.user)
    return case, token, volunteer
