"""Personas, one per role (Zulip's hamlet/iago style), built through the services."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from krov.accounts import roles, services
from krov.accounts.models import User

# Hypothesis on a shared, busy machine: no per-example deadline and no "too slow" health
# check (both measure wall time, which other processes' load decides), for every test; a
# test's own @settings add to this profile.
hypothesis_settings.register_profile(
    "krov", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("krov")

# Aid fixtures (volunteers, requests, cases) are shared with the Telegram tests.
pytest_plugins = ["tests.fixtures_aid"]

PASSWORD = "correct horse battery staple"


@dataclass
class Persona:
    user: User
    role: str
    totp_secret: str | None = None

    def totp_code(self) -> str:
        assert self.totp_secret
        return format_hotp_value(hotp_value(self.totp_secret, int(time.time()) // 30))


def make_persona(role: str, *, with_mfa: bool | None = None, email: str = "") -> Persona:
    email = email or f"{role}@example.org"
    user = services.create_account(
        email=email,
        pseudonym=f"{role.title()}Persona"
        if email == f"{role}@example.org"
        else email.split("@")[0],
        password=PASSWORD,
        roles=[role],
        email_verified=True,
    )
    persona = Persona(user=user, role=role)
    if with_mfa is None:
        with_mfa = services.requires_mfa(user)
    if with_mfa:
        persona.totp_secret = generate_totp_secret()
        TOTP.activate(user, persona.totp_secret)
    return persona


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a test (or a request handled in this
    thread) that activated another one must not change what the next test reads."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    from krov.core import ratelimit

    # Counts kept in this process (the API's cached answers) go with the cache they add to.
    cache.clear()
    ratelimit.forget_counted_here()
    yield
    cache.clear()
    ratelimit.forget_counted_here()


@pytest.fixture
def personas(db) -> dict[str, Persona]:
    """One account per role; those whose role needs MFA already have TOTP."""
    return {role: make_persona(role) for role in roles.ROLE_ORDER}


@pytest.fixture
def login_as():
    """A test client signed in as a persona (session forced: login flows have own tests)."""

    def _login(persona: Persona) -> Client:
        from tests.helpers import signed_in

        return signed_in(persona.user)

    return _login


def _allow_audit_truncate_for_flush(sender, connection, **kwargs) -> None:
    """The suite empties PostgreSQL between transactional tests with TRUNCATE, which the
    audit log refuses unless the session allows it (see core migration 0008)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET krov.audit_truncate = 'allow'")


def pytest_configure(config) -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(_allow_audit_truncate_for_flush, dispatch_uid="krov-test-flush")
