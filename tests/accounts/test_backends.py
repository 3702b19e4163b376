"""After a duress sign-in nothing tells the account apart from a wrong password."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string

from krov.accounts import services
from tests.conftest import PASSWORD, make_persona

pytestmark = pytest.mark.django_db

DURESS = "blue-umbrella-7"


def attempt(email: str, password: str):
    client = Client()
    response = client.post("/en/accounts/login/", {"login": email, "password": password})
    return client, response


def answer(response) -> tuple[int, str, dict]:
    location = response.get("Location", "")
    errors = response.context["form"].errors if response.context else {}
    return response.status_code, location, dict(errors)


@pytest.fixture
def member():
    persona = make_persona("member")
    services.set_duress_password(persona.user, DURESS, actor=persona.user)
    return persona.user


def test_after_duress_the_real_password_gets_the_wrong_password_answer(member):
    _client, wrong_before = attempt(member.email, "not the password")
    _client, duress = attempt(member.email, DURESS)
    assert answer(duress) == answer(wrong_before)
    member.refresh_from_db()
    assert not member.is_active
    client, real_after = attempt(member.email, PASSWORD)
    _client, wrong_after = attempt(member.email, "not the password")
    _client, unknown = attempt("nobody@example.org", PASSWORD)
    assert answer(real_after) == answer(wrong_after) == answer(wrong_before) == answer(unknown)
    assert b"inactive" not in real_after.content.lower()
    assert "_auth_user_id" not in client.session


def test_the_locked_account_page_is_never_reached(member):
    services.panic(member, via="button")
    client, response = attempt(member.email, PASSWORD)
    assert "/inactive/" not in response.get("Location", "")
    follow = client.get("/en/dashboard/")
    assert follow.status_code == 302
    assert "/accounts/login/" in follow["Location"]


def hashes_for(email: str, password: str) -> int:
    hasher = import_string(settings.PASSWORD_HASHERS[0])  # the one every hash here uses
    with mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify) as verify:
        attempt(email, password)
    return verify.call_count


def test_every_outcome_does_the_same_hashing_work(member):
    other = make_persona("editor").user  # no duress password
    counts = {
        "wrong": hashes_for(member.email, "not the password"),
        "unknown": hashes_for("nobody@example.org", "whatever it is"),
        "no duress set, wrong": hashes_for(other.email, "not the password"),
        "no duress set, right": hashes_for(other.email, PASSWORD),
        "right": hashes_for(member.email, PASSWORD),
        "duress": hashes_for(member.email, DURESS),
        "locked, right": hashes_for(member.email, PASSWORD),
        "locked, duress again": hashes_for(member.email, DURESS),
    }
    assert set(counts.values()) == {2}, sorted(counts.items())


def test_right_password_signs_in(member):
    client, response = attempt(member.email, PASSWORD)
    assert response.status_code == 302
    assert client.get("/en/dashboard/").status_code == 200


def test_a_reset_for_a_locked_account_looks_like_a_reset_for_a_working_one(member):
    """Whoever holds a coerced person's phone asks for a password reset: the mail must not
    say "no account" (which would reveal the duress lock)."""
    from django.core import mail

    other = make_persona("editor").user  # a working account, for comparison
    Client().post("/en/accounts/password/reset/", {"email": other.email})
    attempt(member.email, DURESS)  # locks
    Client().post("/en/accounts/password/reset/", {"email": member.email})
    working, locked = mail.outbox[-2], mail.outbox[-1]
    assert locked.to == [member.email]
    assert locked.subject == working.subject
    link = [w for w in locked.body.split() if "/password/reset/key/" in w][0]
    page = Client().get(link.replace("http://testserver", ""), follow=True)
    assert page.status_code == 200
    member.refresh_from_db()
    assert not member.is_active  # the decoy changes nothing
