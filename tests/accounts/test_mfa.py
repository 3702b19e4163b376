from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client

from krov.core.models import AuditEvent
from tests.conftest import PASSWORD, make_persona

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["volunteer", "coordinator", "admin"])
def test_role_needing_mfa_reaches_only_mfa_setup_until_it_has_it(login_as, role):
    persona = make_persona(role, with_mfa=False)
    client = login_as(persona)
    for path in ("/en/dashboard/", "/en/", "/en/audit/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/en/accounts/2fa/totp/activate/"
    # The set-up pages themselves stay reachable (they may ask for the password again).
    assert client.get("/en/accounts/2fa/").status_code == 200
    setup = client.get("/en/accounts/2fa/totp/activate/")
    assert setup.status_code in (200, 302)
    if setup.status_code == 302:
        assert "/reauthenticate/" in setup["Location"]


@pytest.mark.parametrize("role", ["volunteer", "coordinator"])
def test_staff_without_a_second_factor_yet_can_still_reach_safety_panic_and_duress(login_as, role):
    """Someone made a coordinator today, in danger tonight, must be able to lock their
    account before they have set up an authenticator."""
    client = login_as(make_persona(role, with_mfa=False))
    for path in ("/en/account/safety/", "/en/account/panic/", "/en/account/duress/"):
        assert client.get(path).status_code == 200, path


def test_htmx_request_gets_a_client_redirect_to_mfa_setup(login_as):
    client = login_as(make_persona("volunteer", with_mfa=False))
    response = client.get("/en/dashboard/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/en/accounts/2fa/totp/activate/"


@pytest.mark.parametrize("role", ["member", "organiser", "editor"])
def test_roles_without_mfa_requirement_go_straight_in(login_as, role):
    client = login_as(make_persona(role, with_mfa=False))
    assert client.get("/en/dashboard/").status_code == 200


def test_mfa_user_passes_after_setup(login_as):
    client = login_as(make_persona("coordinator", with_mfa=True))
    assert client.get("/en/dashboard/").status_code == 200


def full_login(client: Client, persona) -> None:
    response = client.post(
        "/en/accounts/login/", {"login": persona.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    if persona.totp_secret:
        assert response["Location"] == "/en/accounts/2fa/authenticate/"
        response = client.post("/en/accounts/2fa/authenticate/", {"code": persona.totp_code()})
        assert response.status_code == 302
    assert client.get("/en/dashboard/").status_code == 200


def test_login_with_totp_needs_the_code(client):
    persona = make_persona("volunteer")
    response = client.post(
        "/en/accounts/login/", {"login": persona.user.email, "password": PASSWORD}
    )
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    assert client.get("/en/dashboard/").status_code == 302  # not signed in yet
    bad = client.post("/en/accounts/2fa/authenticate/", {"code": "000000"})
    assert bad.status_code == 200
    assert client.get("/en/dashboard/")["Location"].startswith("/en/accounts/login/")
    client.post("/en/accounts/2fa/authenticate/", {"code": persona.totp_code()})
    assert client.get("/en/dashboard/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_adding_a_second_factor_ends_the_users_other_sessions():
    # transaction=True: allauth sends the signal on commit, inside the request as in production.
    persona = make_persona("member", with_mfa=False)
    phone, laptop = Client(), Client()
    full_login(phone, persona)
    full_login(laptop, persona)

    # On the laptop, the member turns on TOTP (reauthenticating first, as allauth asks).
    laptop.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    page = laptop.get("/en/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = laptop.post("/en/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=persona.user, type="totp").exists()

    assert laptop.get("/en/dashboard/").status_code == 200
    assert phone.get("/en/dashboard/").status_code == 302  # signed out
    assert AuditEvent.objects.filter(kind="mfa_added", subject_id_ref=persona.user.pk).exists()


def test_password_change_ends_other_sessions_but_keeps_this_one():
    persona = make_persona("member")
    phone, laptop = Client(), Client()
    full_login(phone, persona)
    full_login(laptop, persona)
    response = laptop.post(
        "/en/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "a new long passphrase 42",
            "password2": "a new long passphrase 42",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/en/dashboard/").status_code == 200
    assert phone.get("/en/dashboard/").status_code == 302


def test_admin_login_form_cannot_bypass_mfa(client):
    persona = make_persona("admin")
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")
    # Posting credentials to the admin's own form does not sign anyone in.
    client.post("/admin/login/", {"username": persona.user.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_admin_with_mfa_reaches_the_admin_site(login_as):
    client = login_as(make_persona("admin"))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/core/auditevent/").status_code == 200


@pytest.mark.parametrize("role", ["member", "organiser", "editor"])
def test_non_admin_roles_are_refused_by_the_admin_site(login_as, role):
    client = login_as(make_persona(role))
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert client.get("/admin/accounts/user/", follow=True).status_code == 403


def test_admin_role_cannot_set_another_users_password(login_as):
    client = login_as(make_persona("admin"))
    volunteer = make_persona("volunteer").user
    url = f"/admin/accounts/user/{volunteer.pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "taken over 12345", "password2": "taken over 12345"})
    assert response.status_code == 403
    volunteer.refresh_from_db()
    assert volunteer.check_password(PASSWORD)
