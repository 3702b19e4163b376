"""Retention: what a closed case keeps, when, and that the database never holds the text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from krov.aid import services
from krov.aid.models import HelpRequest, Message, Note, Offer, Skill
from krov.core.models import AuditEvent

pytestmark = pytest.mark.django_db

SECRET = "Мама в Бучі, вулиця Вокзальна 7, телефон 0671234567"


def close_with_conversation(active_case):
    case, token, volunteer = active_case
    services.post_reply(case, actor=volunteer.user, body="Напишіть, де ви")
    services.post_requester_message(case, body=SECRET)
    services.add_note(case, actor=volunteer.user, body="note: " + SECRET)
    return services.close_case(case, actor=volunteer.user, outcome="helped"), token


def test_closed_case_keeps_everything_until_the_retention_time(active_case, settings):
    settings.KROV_RETENTION_DAYS = 30
    case, token = close_with_conversation(active_case)
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert services.purge() == {"closed": 0, "spam": 0}
    assert services.case_for_token(token) == case
    assert Message.objects.filter(request=case).count() >= 3


def test_after_retention_only_the_anonymous_record_is_left(active_case, settings, capsys):
    settings.KROV_RETENTION_DAYS = 30
    case, token = close_with_conversation(active_case)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        call_command("purge")
    assert "aid: 1 closed, 0 spam removed" in capsys.readouterr().out
    record = HelpRequest.objects.get(pk=case.pk)
    assert record.purged_at is not None
    assert (record.description, record.region, record.contact_handle) == ("", "", "")
    assert record.token_hash is None and record.assignee_id is None and record.alias == ""
    assert not Message.objects.filter(request=case).exists()
    assert not Note.objects.filter(request=case).exists()
    assert not Offer.objects.filter(request=case).exists()
    # What stays: category, language, channel, durations, outcome.
    assert record.skill.slug == "driving" and record.language == "uk"
    assert record.channel == "web" and record.outcome == "helped"
    assert record.first_response_at and record.closed_at and record.created_at
    assert services.case_for_token(token) is None
    assert AuditEvent.objects.filter(kind="data_purged").exists()


def test_spam_is_purged_after_seven_days(submit, coordinator, settings):
    settings.KROV_SPAM_RETENTION_DAYS = 7
    case, _token = submit(SECRET)
    services.mark_spam(case, actor=coordinator)
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert services.purge()["spam"] == 0
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert services.purge()["spam"] == 1
    assert HelpRequest.objects.get(pk=case.pk).description == ""


def test_open_cases_are_never_purged(active_case):
    case, _token, _volunteer = active_case
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert services.purge() == {"closed": 0, "spam": 0}
    assert HelpRequest.objects.get(pk=case.pk).description


def test_sqlite_file_holds_no_submitted_text_in_plain_form(tmp_path):
    """A whole intake and conversation in a separate process on a real SQLite file."""
    script = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from krov.aid import services
from krov.aid.models import Skill
s = services.submit_request(channel="web", language="uk", skill=Skill.objects.get(slug="legal"),
    description={SECRET!r}, region="Буча")
services.post_requester_message(s.request, body={SECRET!r} + " again")
"""
    env = {
        **os.environ,
        "KROV_DEBUG": "1",
        "KROV_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/krov.sqlite3",
        "DJANGO_SETTINGS_MODULE": "krov.settings",
        "REDIS_URL": "",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    files = [p for p in tmp_path.iterdir() if p.name.startswith("krov.sqlite3")]
    assert files
    needles = [part.encode() for part in ["Вокзальна", "0671234567", "Бучі", "Буча"]]
    for path in files:
        data = Path(path).read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path.name}"
    # ...and the text is there, encrypted: the same process reads it back.
    check = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from krov.aid.models import HelpRequest;"
            "print(HelpRequest.objects.get().description)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.strip() == SECRET


@pytest.mark.django_db(transaction=True)
def test_postgresql_dump_holds_no_submitted_text_in_plain_form(submit, make_volunteer, coordinator):
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass")
    volunteer = make_volunteer("Veter")
    case, _token = submit(SECRET)
    services.assign(case, volunteer, actor=coordinator)
    services.post_requester_message(case, body=SECRET)
    services.add_note(case, actor=volunteer.user, body=SECRET)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    params = connection.settings_dict
    dump = subprocess.run(  # noqa: S603 - pg_dump from the system, local database
        [
            pg_dump,
            "--host",
            params["HOST"] or "127.0.0.1",
            "--port",
            str(params["PORT"] or 5432),
            "--username",
            params["USER"] or "postgres",
            "--data-only",
            params["NAME"],
        ],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": params.get("PASSWORD") or ""},
    )
    assert dump.returncode == 0, dump.stderr
    assert b"aid_helprequest" in dump.stdout
    for needle in ["Вокзальна", "0671234567", "Бучі"]:
        assert needle.encode() not in dump.stdout


def test_purge_leaves_no_link_to_the_case(active_case, settings, login_as, personas):
    """Audit rows, notifications and the requester's chat row no longer lead to a purged case;
    the anonymous record keeps only week-coarse dates."""
    from krov.core.models import Notification

    settings.KROV_RETENTION_DAYS = 30
    case, _token = close_with_conversation(active_case)
    old_public_id, old_code = str(case.public_id), case.code
    coordinator = login_as(personas["coordinator"])
    assert coordinator.get(f"/en/aid/cases/{old_public_id}/").status_code == 200
    assert AuditEvent.objects.filter(target=f"case:{old_public_id}").exists()
    created = case.created_at
    response_delay = case.first_response_at - case.created_at
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        services.purge()
    record = HelpRequest.objects.get(pk=case.pk)
    assert str(record.public_id) != old_public_id and record.code != old_code
    # The audit rows that named the case now name nothing that exists.
    assert not HelpRequest.objects.filter(public_id=old_public_id).exists()
    assert not Notification.objects.filter(link__contains=old_public_id).exists()
    # Dates: the week the case began (a Monday, midnight UTC), durations to the hour.
    assert record.created_at.weekday() == 0
    assert (record.created_at.hour, record.created_at.minute) == (0, 0)
    assert timedelta(0) <= created - record.created_at < timedelta(days=7)
    kept_delay = record.first_response_at - record.created_at
    assert abs(kept_delay - response_delay) <= timedelta(minutes=30)


def test_purge_deletes_the_requesters_telegram_chat_row(submit, coordinator, settings):
    from krov.telegram import services as telegram
    from krov.telegram.models import Chat

    settings.KROV_RETENTION_DAYS = 30
    chat = telegram.get_or_create_chat(55500011)
    result = services.submit_request(
        channel="telegram",
        language="uk",
        skill=Skill.objects.get(slug="driving"),
        description=SECRET,
        contact_handle="55500011",
    )
    case = result.request
    Chat.objects.filter(pk=chat.pk).update(request=case)
    services.close_case(case, actor=coordinator, outcome="helped")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        services.purge()
    assert not Chat.objects.filter(pk=chat.pk).exists()


def test_krov_purge_applies_every_apps_retention(capsys):
    call_command("purge")
    out = capsys.readouterr().out
    for label in ["aid:", "event attendees:", "housing conversations:", "telegram:", "cache:"]:
        assert label in out


def test_purge_deletes_what_telegram_relayed_or_still_queues(active_case, settings):
    from krov.telegram.models import Chat, Outbound

    settings.KROV_RETENTION_DAYS = 30
    case, _token, volunteer = active_case
    message = services.post_requester_message(case, body=SECRET)
    chat = Chat.objects.create(key="k-test", chat_id="123", language="uk")
    Outbound.objects.create(chat=chat, method="sendMessage", params="{}", aid_message=message)
    services.close_case(case, actor=volunteer.user, outcome="helped")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        services.purge()
    assert not Outbound.objects.filter(chat=chat).exists()


def test_forget_also_purges_requests_merged_into_the_case(submit, coordinator):
    case, token = submit("Перший запит")
    duplicate, _other = submit("Той самий запит, ще раз: " + SECRET)
    services.merge(duplicate, case, actor=coordinator)
    services.forget(services.case_for_token(token))
    assert HelpRequest.objects.get(pk=duplicate.pk).description == ""
    assert HelpRequest.objects.get(pk=duplicate.pk).purged_at is not None
