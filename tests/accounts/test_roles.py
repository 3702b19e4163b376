from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from krov.accounts import roles, services
from krov.core.models import AuditEvent

pytestmark = pytest.mark.django_db

EXPECTED = {
    "member": {"accounts.use_member_area"},
    "volunteer": {"accounts.use_member_area", "accounts.answer_help_requests"},
    "coordinator": {
        "accounts.use_member_area",
        "accounts.answer_help_requests",
        "accounts.triage_help_requests",
    },
    "organiser": {
        "accounts.use_member_area",
        "accounts.organise_events",
        "accounts.moderate_housing",
        "accounts.review_directory",
    },
    "editor": {
        "accounts.use_member_area",
        "accounts.edit_bulletins",
        "accounts.publish_bulletins",
        "accounts.review_directory",
    },
    "admin": {
        "accounts.use_member_area",
        "accounts.view_audit_log",
        "accounts.manage_roles",
        "accounts.view_user",
        "accounts.change_user",
        "auth.view_group",
        "telegram.view_update",
        "telegram.process_parked_updates",
        "events.view_venue",
        "events.add_venue",
        "events.change_venue",
    },
}


def test_roles_exist_as_groups_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_ORDER)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_has_exactly_its_permissions(personas, role):
    user = personas[role].user
    assert user.get_all_permissions() == EXPECTED[role]


def test_admin_cannot_see_cases_unless_also_coordinator(personas):
    admin = personas["admin"].user
    assert not admin.has_perm("accounts.triage_help_requests")
    assert not admin.has_perm("accounts.answer_help_requests")


@pytest.mark.parametrize("role", list(EXPECTED))
def test_dashboard_shows_each_role_its_own_roles(personas, login_as, role):
    response = login_as(personas[role])
    page = response.get("/en/dashboard/")
    assert page.status_code == 200
    assert roles.ROLE_LABELS[role].encode() in page.content
    assert personas[role].user.pseudonym.encode() in page.content


def test_dashboard_sends_anonymous_visitors_to_login(client):
    response = client.get("/en/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("member", 403),
        ("volunteer", 403),
        ("coordinator", 403),
        ("organiser", 403),
        ("editor", 403),
        ("admin", 200),
    ],
)
def test_only_admins_read_the_audit_log(personas, login_as, role, status):
    assert login_as(personas[role]).get("/en/audit/").status_code == status


def test_audit_log_page_is_not_cached_and_filters_by_kind(personas, login_as):
    client = login_as(personas["admin"])
    response = client.get("/en/audit/?kind=role_added")
    assert response["Cache-Control"] == "no-store"
    kinds = {e.kind for e in response.context["page"]}
    assert kinds == {"role_added"}
    assert client.get("/en/audit/?kind=nonsense&page=abc").status_code == 200


def test_role_change_is_audited_with_actor(personas):
    admin = personas["admin"].user
    member = personas["member"].user
    services.set_roles(member, ["editor"], actor=admin)
    event = AuditEvent.objects.filter(kind="role_added", subject_id_ref=member.pk).first()
    assert event.detail == {"role": "editor"}
    assert event.actor_pseudonym == admin.pseudonym
    services.set_roles(member, [], actor=admin)
    removed = AuditEvent.objects.get(kind="role_removed", subject_id_ref=member.pk)
    assert removed.detail == {"role": "editor"}
    assert services.user_roles(member) == {"member"}


def test_unknown_role_is_refused(personas):
    with pytest.raises(services.AccountError):
        services.set_roles(personas["member"].user, ["overlord"], actor=None)


def test_admin_role_grants_staff_and_losing_it_takes_staff_away(personas):
    user = personas["editor"].user
    services.set_roles(user, ["editor", "admin"], actor=None)
    user.refresh_from_db()
    assert user.is_staff
    services.set_roles(user, ["editor"], actor=None)
    user.refresh_from_db()
    assert not user.is_staff


def test_audit_log_is_append_only(personas):
    from krov.core.models import AppendOnlyError

    event = AuditEvent.objects.first()
    event.kind = "logout"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(kind="logout")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_database_refuses_audit_changes_on_postgresql(personas):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET kind = 'logout'")


def test_audit_log_queries_do_not_grow_with_the_number_of_events(personas, login_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from krov.core import audit

    client = login_as(personas["admin"])
    client.get("/en/audit/")  # warm the session

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/en/audit/").status_code == 200
        return len(ctx.captured_queries)

    few = queries_for_page()
    for i in range(80):
        audit.record("login", subject=personas["member"].user, n=i)
    assert queries_for_page() == few


def test_database_refuses_truncating_the_audit_log_on_postgresql(personas):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL krov.audit_truncate = ''")  # as Krov's own sessions are
        cursor.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.exists()


def test_the_audit_chain_verifies_and_a_gap_is_found(personas, capsys):
    from django.core.management import call_command
    from django.db import connection

    from krov.core import audit

    for i in range(5):
        audit.record("login", subject=personas["member"].user, n=i)
    call_command("audit-verify")
    assert "audit log intact" in capsys.readouterr().out
    victim = AuditEvent.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
    verdict = audit.verify()
    assert not verdict.ok
    assert verdict.broken_at == AuditEvent.objects.filter(id__gt=victim.pk).order_by("id")[0].pk
    with pytest.raises(SystemExit):
        call_command("audit-verify")
    assert "BROKEN" in capsys.readouterr().err


def test_a_changed_audit_row_breaks_the_chain(personas):
    from django.db import connection

    from krov.core import audit

    audit.record("login", subject=personas["member"].user)
    last = AuditEvent.objects.order_by("-id").first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE core_auditevent SET subject_pseudonym = 'Someone else' WHERE id = %s",
            [last.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
    verdict = audit.verify()
    assert verdict.broken_at == last.pk and "changed" in verdict.reason


def test_a_signed_in_page_asks_the_persons_roles_once(personas, login_as):
    # The MFA middleware asks through request.user's lazy wrapper, the header's tools menu
    # through User.has_perm on the instance: both must share one answer.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login_as(personas["editor"])
    client.get("/en/events/")
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/en/events/").status_code == 200
    role_queries = [
        q["sql"]
        for q in seen.captured_queries
        if '"auth_group"."name"' in q["sql"] and "accounts_user_groups" in q["sql"]
    ]
    assert len(role_queries) == 1


def test_roles_changed_in_a_request_are_read_again(personas):
    from django.utils.functional import SimpleLazyObject

    user = personas["member"].user
    lazy = SimpleLazyObject(lambda: user)
    assert services.user_roles(lazy) == {"member"}
    services.set_roles(lazy, ["member", "organiser"], actor=None)
    assert services.user_roles(user) == {"member", "organiser"}
