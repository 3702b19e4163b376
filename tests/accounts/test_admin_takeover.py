"""An administrator cannot take an account over or give anyone case access alone."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from krov.accounts import roles, services
from krov.accounts.models import RoleGrant, User
from krov.core import notify
from krov.core.models import AuditEvent, Notification
from tests.conftest import PASSWORD, make_persona

pytestmark = pytest.mark.django_db


def admin_change(client: Client, user: User, **fields):
    data = {"pseudonym": user.pseudonym, "groups": [], **fields}
    group_ids = [
        Group.objects.get(name=name).pk for name in data.pop("roles", services.user_roles(user))
    ]
    data["groups"] = group_ids
    return client.post(f"/admin/accounts/user/{user.pk}/change/", data)


@pytest.fixture
def admin_client(personas, login_as):
    return login_as(personas["admin"])


def test_admin_cannot_change_another_users_email(admin_client, personas):
    editor = personas["editor"].user
    response = admin_change(admin_client, editor, email="attacker@example.org")
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.email == "editor@example.org"


def test_admin_password_page_is_refused_even_for_a_superuser(personas, login_as):
    admin = personas["admin"].user
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    client = login_as(personas["admin"])
    member = personas["member"].user
    url = f"/admin/accounts/user/{member.pk}/password/"
    response = client.post(url, {"password1": "taken over 12345", "password2": "taken over 12345"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_admin_form_cannot_lift_a_panic_lock(admin_client, personas):
    member = personas["member"].user
    services.panic(member, via="button")
    admin_change(admin_client, member, is_active="on")
    member.refresh_from_db()
    assert not member.is_active
    assert member.locked_by_panic_at is not None


def test_admin_changes_are_audited_by_field_name_not_value(admin_client, personas):
    editor = personas["editor"].user
    admin_change(admin_client, editor, pseudonym="Renamed")
    event = AuditEvent.objects.get(kind="account_changed", subject_id_ref=editor.pk)
    assert event.detail == {"fields": ["pseudonym"]}
    assert event.actor_id_ref == personas["admin"].user.pk
    assert "Renamed" not in str(event.detail)


def test_admin_granting_coordinator_to_themselves_waits_for_a_second_person(admin_client, personas):
    admin = personas["admin"].user
    response = admin_change(admin_client, admin, roles=["admin", "coordinator"])
    assert response.status_code == 302
    assert services.user_roles(admin) == {"member", "admin"}
    assert not admin.has_perm("accounts.triage_help_requests")
    grant = RoleGrant.objects.get(user=admin, role="coordinator")
    assert grant.status == RoleGrant.Status.PENDING
    assert AuditEvent.objects.filter(kind="role_requested", subject_id_ref=admin.pk).exists()
    # The one who asked cannot confirm it, not even on the role-requests page.
    page = admin_client.get("/en/account/role-requests/")
    assert page.context["grants"] == []
    admin_client.post(
        "/en/account/role-requests/", {"grant": str(grant.public_id), "decision": "confirm"}
    )
    grant.refresh_from_db()
    assert grant.status == RoleGrant.Status.PENDING


def test_second_admin_confirms_and_every_coordinator_is_told(personas, login_as):
    first = personas["admin"].user
    member = personas["member"].user
    [grant] = services.change_roles(member, ["volunteer"], actor=first)
    second = make_persona("admin", with_mfa=True, email="second-admin@example.org")
    client = login_as(second)
    response = client.post(
        "/en/account/role-requests/", {"grant": str(grant.public_id), "decision": "confirm"}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == RoleGrant.Status.CONFIRMED
    assert grant.decided_by == second.user
    member = User.objects.get(pk=member.pk)
    assert member.has_perm("accounts.answer_help_requests")
    told = Notification.objects.filter(kind="case_role_granted")
    assert set(told.values_list("recipient", flat=True)) == {personas["coordinator"].user.pk}
    _subject, body = notify.render(told.get())
    assert member.pseudonym in body and "Volunteer" in body and second.user.pseudonym in body


def test_coordinator_may_confirm_and_refuse(personas, login_as):
    admin = personas["admin"].user
    member, editor = personas["member"].user, personas["editor"].user
    [grant] = services.change_roles(member, ["volunteer"], actor=admin)
    [other] = services.change_roles(editor, ["coordinator"], actor=admin)
    client = login_as(personas["coordinator"])
    assert {g.pk for g in client.get("/en/account/role-requests/").context["grants"]} == {
        grant.pk,
        other.pk,
    }
    client.post("/en/account/role-requests/", {"grant": str(other.public_id), "decision": "refuse"})
    other.refresh_from_db()
    assert other.status == RoleGrant.Status.REFUSED
    assert "coordinator" not in services.user_roles(User.objects.get(pk=editor.pk))


def test_the_subject_cannot_confirm_their_own_grant(personas):
    admin, coordinator = personas["admin"].user, personas["coordinator"].user
    # An admin asks to make the coordinator an admin-and-volunteer: the coordinator may not
    # confirm their own request.
    [grant] = services.change_roles(coordinator, ["coordinator", "volunteer"], actor=admin)
    with pytest.raises(services.AccountError):
        services.confirm_role_grant(grant, actor=coordinator)


@pytest.mark.parametrize("role", ["member", "volunteer", "organiser", "editor"])
def test_other_roles_cannot_open_role_requests(personas, login_as, role):
    assert login_as(personas[role]).get("/en/account/role-requests/").status_code == 403


def test_bad_role_request_posts_get_a_message_not_an_error(personas, login_as):
    client = login_as(personas["coordinator"])
    for data in [{}, {"grant": "not-a-uuid"}, {"grant": "0" * 32, "decision": "confirm"}]:
        response = client.post("/en/account/role-requests/", data, follow=True)
        assert response.status_code == 200


def test_set_roles_refuses_case_roles_from_a_person_without_confirmation(personas):
    with pytest.raises(services.AccountError):
        services.set_roles(personas["member"].user, ["volunteer"], actor=personas["admin"].user)


def test_a_superuser_passes_no_case_permission(personas):
    admin = personas["admin"].user
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    admin = User.objects.get(pk=admin.pk)
    assert admin.has_perm("accounts.view_audit_log")
    assert admin.has_perm("events.change_event")  # Django's superuser shortcut elsewhere
    assert not admin.has_perm("accounts.triage_help_requests")
    assert not admin.has_perm("accounts.answer_help_requests")


def test_superuser_cannot_open_the_triage_desk(personas, login_as):
    admin = personas["admin"].user
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    client = login_as(personas["admin"])
    assert client.get("/en/aid/triage/").status_code == 403
    assert client.get("/en/aid/").status_code == 403


def test_createsuperuser_is_refused():
    with pytest.raises(CommandError, match="create-admin"):
        call_command("createsuperuser", "--noinput", "--email", "root@example.org")
    assert not User.objects.filter(is_superuser=True).exists()


def test_create_admin_makes_an_administrator_without_case_access(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a long enough passphrase 77\n")
    call_command(
        "create-admin", "first@example.org", "--pseudonym", "First", "--password-file", secret
    )
    user = User.objects.get(email="first@example.org")
    assert services.user_roles(user) == {roles.MEMBER, roles.ADMIN}
    assert user.is_staff and not user.is_superuser
    assert user.check_password("a long enough passphrase 77")
    assert services.requires_mfa(user)
    assert not user.has_perm("accounts.triage_help_requests")


def test_create_admin_refuses_a_weak_password(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("short")
    with pytest.raises(CommandError):
        call_command("create-admin", "x@example.org", "--pseudonym", "X", "--password-file", secret)
    assert not User.objects.filter(email="x@example.org").exists()


def test_changing_ones_email_needs_the_password_again_and_tells_the_old_address(client):
    persona = make_persona("member")
    client.post("/en/accounts/login/", {"login": persona.user.email, "password": PASSWORD})
    mail.outbox.clear()
    response = client.post("/en/accounts/email/", {"action_add": "1", "email": "new@example.org"})
    assert response.status_code == 302
    assert "/reauthenticate/" in response["Location"]
    assert not mail.outbox

    client.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post("/en/accounts/email/", {"action_add": "1", "email": "new@example.org"})
    assert response.status_code == 302
    [verification] = mail.outbox
    assert verification.to == ["new@example.org"]
    # Until the new address is confirmed, the account keeps the old one.
    persona.user.refresh_from_db()
    assert persona.user.email == "member@example.org"

    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    key = EmailConfirmationHMAC(EmailAddress.objects.get(email="new@example.org")).key
    mail.outbox.clear()
    client.post(f"/en/accounts/confirm-email/{key}/")
    persona.user.refresh_from_db()
    assert persona.user.email == "new@example.org"
    notice = [m for m in mail.outbox if m.to == ["member@example.org"]]
    assert notice, [m.to for m in mail.outbox]
    assert "new@example.org" in notice[0].body
    assert "IP address" not in notice[0].body


def test_the_admin_role_also_needs_a_second_person(personas):
    admin, member = personas["admin"].user, personas["member"].user
    [grant] = services.change_roles(member, ["admin"], actor=admin)
    assert grant.role == "admin"
    assert "admin" not in services.user_roles(User.objects.get(pk=member.pk))


def test_a_second_account_made_by_the_requester_is_not_a_second_person(personas):
    """Admin A makes account S an admin (confirmed by B), then asks for coordinator: S may
    not confirm what A asks for."""
    first, coordinator = personas["admin"].user, personas["coordinator"].user
    sock = personas["editor"].user
    [grant] = services.change_roles(sock, ["editor", "admin"], actor=first)
    services.confirm_role_grant(grant, actor=coordinator)
    [mine] = services.change_roles(first, ["admin", "coordinator"], actor=first)
    assert not services.can_decide_role_grant(mine, User.objects.get(pk=sock.pk))
    with pytest.raises(services.AccountError):
        services.confirm_role_grant(mine, actor=User.objects.get(pk=sock.pk))


def test_confirming_is_audited_with_both_people(personas):
    admin, coordinator, member = (personas[r].user for r in ("admin", "coordinator", "member"))
    [grant] = services.change_roles(member, ["volunteer"], actor=admin)
    services.confirm_role_grant(grant, actor=coordinator)
    event = AuditEvent.objects.get(kind="role_confirmed", subject_id_ref=member.pk)
    assert event.actor_id_ref == coordinator.pk
    assert event.detail == {"role": "volunteer", "requested_by": admin.pseudonym}


def test_allauth_pages_for_other_peoples_addresses_and_factors_are_gone(admin_client):
    for url in ["/admin/account/emailaddress/", "/admin/mfa/authenticator/"]:
        assert admin_client.get(url).status_code == 404, url


def test_the_migration_drops_every_superuser_flag(personas):
    import importlib

    from django.apps import apps as global_apps

    User.objects.filter(pk=personas["admin"].user.pk).update(is_superuser=True)
    migration = importlib.import_module("krov.accounts.migrations.0005_no_superusers")
    migration.drop_superuser_flag(global_apps, None)
    assert not User.objects.filter(is_superuser=True).exists()


def test_a_request_lapses_after_two_weeks_or_when_its_requester_is_no_admin(personas):
    import time_machine
    from django.utils import timezone

    admin, coordinator = personas["admin"].user, personas["coordinator"].user
    member, editor = personas["member"].user, personas["editor"].user
    [old] = services.change_roles(member, ["volunteer"], actor=admin)
    with (
        time_machine.travel(timezone.now() + services.ROLE_GRANT_VALID + timezone.timedelta(1)),
        pytest.raises(services.AccountError, match="lapsed"),
    ):
        services.confirm_role_grant(old, actor=coordinator)
    [orphan] = services.change_roles(editor, ["editor", "volunteer"], actor=admin)
    services.set_roles(admin, ["member"], actor=None)  # no longer an administrator
    with pytest.raises(services.AccountError, match="lapsed"):
        services.confirm_role_grant(orphan, actor=coordinator)
    assert "volunteer" not in services.user_roles(User.objects.get(pk=editor.pk))


def test_the_admin_unlock_action_only_asks_and_a_coordinator_confirms(
    admin_client, personas, login_as
):
    from krov.accounts.models import UnlockRequest

    member = personas["member"].user
    services.panic(member, via="duress")
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "unlock_after_panic", "_selected_action": [member.pk]},
    )
    member.refresh_from_db()
    assert not member.is_active
    asked = UnlockRequest.objects.get(user=member)
    assert admin_client.get("/en/account/role-requests/").context["unlocks"] == []
    coordinator = login_as(personas["coordinator"])
    assert coordinator.get("/en/account/role-requests/").context["unlocks"] == [asked]
    coordinator.post(
        "/en/account/role-requests/", {"unlock": str(asked.public_id), "decision": "confirm"}
    )
    member.refresh_from_db()
    assert member.is_active and not member.has_usable_password()
    event = AuditEvent.objects.get(kind="account_unlocked", subject_id_ref=member.pk)
    assert event.detail == {"confirmed_by": personas["coordinator"].user.pseudonym}


def test_a_custodians_service_account_takes_no_role_vouch_or_admin_edit(admin_client, personas):
    from krov.aid import services as aid

    custodian, _token = aid.add_custodian("night-desk")
    account = custodian.user
    assert account.is_service_account
    # The admin's account list does not show it, and its page is not there to edit.
    listing = admin_client.get("/admin/accounts/user/?q=custodian")
    assert listing.status_code == 200 and "custodian:night-desk" not in listing.text
    assert admin_client.get(f"/admin/accounts/user/{account.pk}/change/").status_code == 302
    # No role, no role request, no vouch: it acts only through its token.
    admin = personas["admin"].user
    for give in (
        lambda: services.set_roles(account, [roles.EDITOR], actor=admin),
        lambda: services.request_role(account, roles.COORDINATOR, actor=admin),
        lambda: services.change_roles(account, [roles.VOLUNTEER], actor=admin),
    ):
        with pytest.raises(services.AccountError, match="service account"):
            give()
    with pytest.raises(aid.AidError, match="service account"):
        aid.vouch_for(account, actor=personas["coordinator"].user, languages=["ru"])
    assert services.user_roles(account) <= {roles.MEMBER}
    assert not RoleGrant.objects.filter(user=account).exists()


def test_a_service_account_cannot_sign_in_with_a_password_even_if_one_was_set(client):
    """Whoever sets a password on a custodian's account (a shell, a reset) gets no session:
    the custodian acts through its token alone."""
    from krov.aid import services as aid

    custodian, _token = aid.add_custodian("night-desk")
    account = custodian.user
    account.set_password("a-password-someone-set")
    account.save(update_fields=["password"])
    response = client.post(
        "/en/accounts/login/", {"login": account.email, "password": "a-password-someone-set"}
    )
    assert response.status_code == 200  # the form again, no redirect into the site
    assert "_auth_user_id" not in client.session


def test_the_migration_strips_what_a_custodian_account_was_given_before_the_flag(personas):
    """An account made a volunteer and a coordinator before service accounts existed loses
    both roles, its waiting role requests and its volunteer profile; it stays a member."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from krov.aid import services as aid
    from krov.aid.models import VolunteerProfile

    migration = importlib.import_module("krov.aid.migrations.0007_service_accounts_hold_nothing")
    custodian, _token = aid.add_custodian("old-desk")
    account = custodian.user
    account.groups.add(*Group.objects.filter(name__in=[roles.VOLUNTEER, roles.COORDINATOR]))
    VolunteerProfile.objects.create(user=account, languages=["ru"])
    RoleGrant.objects.create(
        user=account, role=roles.COORDINATOR, requested_by=personas["admin"].user
    )
    migration.strip(apps, None)
    assert set(account.groups.values_list("name", flat=True)) <= {roles.MEMBER}
    assert not VolunteerProfile.objects.filter(user=account).exists()
    assert not RoleGrant.objects.filter(user=account, status="pending").exists()
