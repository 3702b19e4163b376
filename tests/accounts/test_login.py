from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client

from krov.core.models import AuditEvent
from tests.conftest import PASSWORD, make_persona

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.77"


def attempt(client: Client, email: str, password: str, **extra):
    return client.post("/en/accounts/login/", {"login": email, "password": password}, **extra)


def test_login_succeeds_and_is_audited(client):
    persona = make_persona("member")
    response = attempt(client, persona.user.email, PASSWORD)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(kind="login", subject_id_ref=persona.user.pk).exists()


def test_wrong_password_and_unknown_account_get_the_same_answer(client):
    persona = make_persona("member")
    wrong = attempt(client, persona.user.email, "not the password")
    unknown = attempt(Client(), "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors
    failed = AuditEvent.objects.filter(kind="login_failed")
    assert failed.count() == 2
    assert {e.subject_id_ref for e in failed} == {persona.user.pk, None}


def test_password_reset_answers_the_same_for_unknown_accounts(client):
    persona = make_persona("member")
    known = client.post("/en/accounts/password/reset/", {"email": persona.user.email})
    unknown = Client().post("/en/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # The owner gets a reset link; the unknown address gets a neutral notice, no link.
    assert len(mail.outbox) == 2


def is_limited(response) -> bool:
    return b"Too many failed login attempts" in response.content


def test_failed_logins_are_rate_limited(client):
    persona = make_persona("member")
    responses = [
        attempt(client, persona.user.email, f"wrong {i}", REMOTE_ADDR=CLIENT_IP) for i in range(6)
    ]
    assert [is_limited(r) for r in responses] == [False] * 5 + [True]
    # Even the right password is refused while the limit holds.
    right = attempt(client, persona.user.email, PASSWORD, REMOTE_ADDR=CLIENT_IP)
    assert right.status_code == 200
    assert is_limited(right)


def test_forged_forwarded_for_does_not_dodge_the_limit(client, settings):
    settings.KROV_TRUSTED_PROXIES = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    persona = make_persona("member")
    last = None
    for i in range(settings.KROV_LOGIN_FAILURES_PER_ADDRESS + 1):
        # The client forges a fresh address each time; the proxy appends the real one.
        forged = f"198.51.100.{i % 250}, {CLIENT_IP}"
        last = attempt(
            client,
            f"other{i}-{persona.user.email}",
            "x",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forged,
        )
    assert is_limited(last)


def test_rate_limit_keys_hold_no_address(client):
    make_persona("member")
    attempt(client, "someone@example.org", "wrong", REMOTE_ADDR=CLIENT_IP)
    keys = list(cache._cache.keys()) if hasattr(cache, "_cache") else []
    assert keys, "expected rate-limit entries in the local cache"
    assert not any(CLIENT_IP in str(key) for key in keys)
    assert not any("someone@example.org" in str(key) for key in keys)


def test_no_ip_address_or_user_agent_is_stored_anywhere(client):
    persona = make_persona("volunteer")
    agent = "Mozilla/5.0 (KrovTestAgent/9.9)"
    attempt(client, persona.user.email, "wrong", REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=agent)
    attempt(client, persona.user.email, PASSWORD, REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=agent)
    client.post(
        "/en/accounts/2fa/authenticate/",
        {"code": persona.totp_code()},
        REMOTE_ADDR=CLIENT_IP,
        HTTP_USER_AGENT=agent,
    )
    assert client.get("/en/dashboard/", REMOTE_ADDR=CLIENT_IP).status_code == 200

    for session in Session.objects.all():
        decoded = str(session.get_decoded())
        assert CLIENT_IP not in decoded
        assert "KrovTestAgent" not in decoded
    # Every text column of every table.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                flat = " ".join(str(v) for v in row)
                assert CLIENT_IP not in flat, table
                assert "KrovTestAgent" not in flat, table


def test_signup_creates_a_member_with_a_pseudonym(client):
    response = client.post(
        "/en/accounts/signup/",
        {
            "email": "new@example.org",
            "pseudonym": "Lastivka",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302
    from krov.accounts.models import User

    user = User.objects.get(email="new@example.org")
    assert user.pseudonym == "Lastivka"
    assert set(user.groups.values_list("name", flat=True)) == {"member"}


def test_signup_refuses_a_taken_pseudonym_whatever_its_case(client):
    make_persona("member")
    response = client.post(
        "/en/accounts/signup/",
        {
            "email": "other@example.org",
            "pseudonym": "MEMBERPERSONA",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 200
    assert "pseudonym" in response.context["form"].errors


def test_cache_is_isolated_between_tests():
    assert cache.get("allauth") is None


def test_rate_limits_hold_across_processes_with_the_embedded_default_cache(tmp_path, settings):
    """gunicorn runs several workers: without Redis they share a cache on disk, not memory."""
    from django.core.cache import caches

    from krov import settings as krov_settings
    from krov.core.cache import DiskCache

    embedded = krov_settings.CACHES["default"]
    assert embedded["BACKEND"] == "krov.core.cache.DiskCache" or krov_settings.REDIS_URL
    settings.CACHES = {
        "default": {
            **{k: v for k, v in embedded.items() if not krov_settings.REDIS_URL},
            "BACKEND": "krov.core.cache.DiskCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    assert isinstance(caches["default"], DiskCache)
    persona = make_persona("member")
    worker_a, worker_b = Client(), Client()
    for i in range(5):
        (worker_a if i % 2 else worker_b).post(
            "/en/accounts/login/",
            {"login": persona.user.email, "password": f"wrong {i}"},
            REMOTE_ADDR=CLIENT_IP,
        )
    # Another process opens the same folder and sees the same counters.
    other_process = DiskCache(str(tmp_path / "cache"), {})
    assert len(other_process._cache) >= 2  # its FanoutCache: the entries in every shard
    other_process.close()
    assert is_limited(attempt(Client(), persona.user.email, "wrong again", REMOTE_ADDR=CLIENT_IP))


def test_wrong_codes_from_one_address_lock_that_account_not_everyone_behind_it():
    """Five people behind one NAT or Tor exit: one mistyping codes locks only themselves."""
    unlucky, neighbour = make_persona("volunteer"), make_persona("coordinator")
    clumsy = Client()
    attempt(clumsy, unlucky.user.email, PASSWORD, REMOTE_ADDR=CLIENT_IP)
    for _ in range(6):
        clumsy.post("/en/accounts/2fa/authenticate/", {"code": "000000"}, REMOTE_ADDR=CLIENT_IP)
    locked = clumsy.post(
        "/en/accounts/2fa/authenticate/", {"code": unlucky.totp_code()}, REMOTE_ADDR=CLIENT_IP
    )
    assert clumsy.get("/en/dashboard/").status_code == 302, locked.status_code

    other = Client()
    response = attempt(other, neighbour.user.email, PASSWORD, REMOTE_ADDR=CLIENT_IP)
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    other.post(
        "/en/accounts/2fa/authenticate/", {"code": neighbour.totp_code()}, REMOTE_ADDR=CLIENT_IP
    )
    assert other.get("/en/dashboard/").status_code == 200


def test_wrong_passwords_for_one_account_from_many_addresses_are_limited(client):
    persona = make_persona("member")
    responses = [
        attempt(Client(), persona.user.email, f"wrong {i}", REMOTE_ADDR=f"203.0.113.{i}")
        for i in range(6)
    ]
    assert is_limited(responses[-1])
