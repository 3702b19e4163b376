"""Parked updates, for the admin role: seen in the Django admin (ids and errors, never what
they hold), processed again with one action, counted on the admin's home and in /healthz."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from krov.accounts import roles
from krov.telegram import dialogue, intake, services
from krov.telegram import home as telegram_home
from krov.telegram.models import Update
from tests.helpers import signed_in, soup
from tests.telegram.test_dialogue import run_dialogue

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/telegram/update/"


def park(user, monkeypatch, text: str) -> Update:
    """`text` from `user`, parked after the dialogue failed on it every time."""

    def broken(update, **kwargs):
        raise RuntimeError("a bug in the dialogue")

    with monkeypatch.context() as patch:
        patch.setattr(dialogue, "handle", broken)
        user.say(text)
        for _attempt in range(intake.MAX_ATTEMPTS):
            with contextlib.suppress(RuntimeError):
                intake.process_chat(services.chat_key(user.chat_id))
    return Update.objects.get(chat_key=services.chat_key(user.chat_id), status="parked")


@pytest.fixture
def parked(telegram_user, monkeypatch):
    user = telegram_user()
    case = run_dialogue(user)
    return user, case, park(user, monkeypatch, "Маркер-A17: нам треба ліки")


def test_the_admin_role_sees_parked_updates_but_not_what_they_hold(parked, personas):
    _user, _case, update = parked
    response = signed_in(personas[roles.ADMIN].user).get(CHANGELIST + "?status__exact=parked")
    assert response.status_code == 200
    page = soup(response)
    rows = page.select("#result_list tbody tr")
    assert len(rows) == 1
    assert str(update.update_id) in rows[0].get_text() and "RuntimeError" in rows[0].get_text()
    assert "Маркер-A17" not in response.content.decode()
    detail = signed_in(personas[roles.ADMIN].user).get(f"{CHANGELIST}{update.pk}/change/")
    assert detail.status_code == 200 and "Маркер-A17" not in detail.content.decode()


@pytest.mark.parametrize(
    "role", [roles.MEMBER, roles.VOLUNTEER, roles.COORDINATOR, roles.ORGANISER, roles.EDITOR]
)
def test_other_roles_cannot_see_parked_updates(parked, personas, role):
    response = signed_in(personas[role].user).get(CHANGELIST)
    assert response.status_code in {302, 403}  # not staff: the admin's sign-in; else refused
    assert "Маркер-A17" not in response.content.decode()


def test_the_admin_role_processes_parked_updates_again_and_the_message_reaches_the_case(
    parked, personas
):
    _user, case, update = parked
    admin = signed_in(personas[roles.ADMIN].user)
    page = soup(admin.get(CHANGELIST))
    options = [o["value"] for o in page.select("select[name=action] option")]
    assert "process_again" in options
    response = admin.post(
        CHANGELIST,
        {"action": "process_again", "_selected_action": [update.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 parked update is queued again." in response.content.decode()
    update.refresh_from_db()
    assert (update.status, update.error, update.payload) == (Update.Status.DONE, "", "")
    assert "Маркер-A17: нам треба ліки" in [m.body for m in case.messages.filter(direction="in")]
    from krov.core.models import AuditEvent

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TELEGRAM_REPROCESSED)
    assert event.actor_pseudonym == personas[roles.ADMIN].user.pseudonym
    assert event.detail == {"count": 1}


def test_the_admin_role_can_neither_change_nor_delete_an_update(parked, personas):
    _user, _case, update = parked
    admin = signed_in(personas[roles.ADMIN].user)
    assert admin.post(f"{CHANGELIST}{update.pk}/change/", {"status": "done"}).status_code == 403
    assert admin.post(f"{CHANGELIST}{update.pk}/delete/", {"post": "yes"}).status_code == 403
    page = soup(admin.get(CHANGELIST))
    options = [o["value"] for o in page.select("select[name=action] option")]
    assert "delete_selected" not in options
    assert Update.objects.get(pk=update.pk).status == Update.Status.PARKED


def test_processing_again_needs_the_permission(parked, personas):
    _user, _case, update = parked
    with pytest.raises(services.TelegramError):
        services.process_parked_again(Update.objects.all(), actor=personas[roles.EDITOR].user)
    assert Update.objects.get(pk=update.pk).status == Update.Status.PARKED


def test_only_parked_updates_are_queued_again(parked, personas):
    _user, _case, update = parked
    done = Update.objects.exclude(pk=update.pk)
    assert services.process_parked_again(done, actor=personas[roles.ADMIN].user) == 0
    assert Update.objects.get(pk=update.pk).status == Update.Status.PARKED


def test_the_admins_home_counts_parked_updates_and_links_to_them(parked, personas):
    page = soup(signed_in(personas[roles.ADMIN].user).get("/en/dashboard/"))
    panel = page.select_one("section#telegram-admin")
    assert panel is not None
    item = panel.select_one("li.urgent")
    assert item.select_one(".count").get_text() == "1"
    assert item.a["href"] == CHANGELIST + "?status__exact=parked"
    coordinator_page = soup(signed_in(personas[roles.COORDINATOR].user).get("/en/dashboard/"))
    assert coordinator_page.select_one("section#telegram-admin") is None


def test_the_admins_home_shows_nothing_waiting_when_nothing_is_parked(personas):
    page = soup(signed_in(personas[roles.ADMIN].user).get("/en/dashboard/"))
    panel = page.select_one("section#telegram-admin")
    assert panel.select_one(".count").get_text() == "0" and panel.select_one("li.urgent") is None


def test_the_telegram_panel_takes_the_same_queries_however_many_are_parked(
    telegram_user, monkeypatch, personas
):
    admin = personas[roles.ADMIN].user

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            telegram_home.admin_panel(admin)
        return len(captured)

    queries()  # the account's permissions, loaded once
    park(telegram_user(), monkeypatch, "one")
    few = queries()
    for index in range(3):
        park(telegram_user(555000300 + index), monkeypatch, f"more {index}")
    assert Update.objects.filter(status=Update.Status.PARKED).count() == 4
    assert queries() == few


def test_healthz_reports_the_count_of_parked_updates(client, parked):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["telegram"] == {"status": "ok", "parked": 1}
