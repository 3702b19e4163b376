"""The webhook's own short path: answered before sessions, languages and sign-in, with
every security header an answer gets; the chat and the running workers' keys read by plain
statements that give exactly what the ORM gives."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from krov.telegram import chat_ids, outbox_keys, services
from krov.telegram.middleware import NOTHING_ALLOWED
from krov.telegram.models import Chat, OutboxKey, Update
from tests.telegram.conftest import SECRET, WEBHOOK_PATH, fixture

pytestmark = pytest.mark.django_db


def _post(client: Client, body: dict, **headers):
    return client.post(
        WEBHOOK_PATH,
        json.dumps(body),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, **headers},
    )


def test_the_webhook_answers_with_every_security_header_and_no_session_or_language(fake_api, team):
    client = Client()
    answer = _post(client, fixture("message_start"), **{"Accept-Language": "sr"})
    assert answer.status_code == 200
    assert Update.objects.count() == 1
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == NOTHING_ALLOWED
    assert answer["Permissions-Policy"].startswith("accelerometer=()")
    assert answer["Cross-Origin-Resource-Policy"] == "same-origin"
    # Nothing of what serves people ran: no cookie, no language, no Vary on either.
    assert not answer.cookies
    assert not answer.has_header("Content-Language")
    assert "Cookie" not in answer.get("Vary", "")
    assert "Accept-Language" not in answer.get("Vary", "")


def test_the_short_path_keeps_the_webhooks_refusals(fake_api):
    client = Client()
    assert client.get(WEBHOOK_PATH).status_code == 405
    wrong = _post(client, fixture("message_start"), **{"X-Telegram-Bot-Api-Secret-Token": "x"})
    assert wrong.status_code == 403
    bad = client.post(
        WEBHOOK_PATH,
        b"not json",
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert bad.status_code == 400
    assert "not JSON" in bad.json()["description"]
    assert Update.objects.count() == 0
    # Another path, even one character longer, is not the webhook.
    assert client.post(WEBHOOK_PATH + "/", b"{}", content_type="application/json").status_code in (
        404,
        403,
    )


def test_the_metrics_name_the_webhooks_answers_by_its_view(fake_api):
    from krov.core.metrics import REQUESTS

    counted = REQUESTS.labels("telegram:webhook", "2xx")
    before = counted._value.get()
    _post(Client(), fixture("message_start"))
    assert counted._value.get() == before + 1


def test_a_chat_read_by_key_is_the_chat_the_orm_reads(team, make_volunteer):
    volunteer = make_volunteer("Olena")
    key = chat_ids.chat_key(4242)
    Chat.objects.create(
        key=key,
        language="sr-latn",
        state=Chat.State.NEW,
        sealed_id={"worker": "sealed"},
        contact_lookup=chat_ids.contact_lookup(key),
        chat_id="4242",
        volunteer=volunteer,
        last_sent_at=timezone.now(),
    )
    fast, orm = services.chat_by_key(key), Chat.objects.get(key=key)
    assert fast is not None
    for field in Chat._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    assert fast.volunteer == volunteer  # loaded when asked for
    assert not fast._state.adding
    assert services.chat_by_key(chat_ids.chat_key(4243)) is None


def test_only_worker_keys_proven_under_the_current_secret_are_live():
    good, forged = "g" * 43, "f" * 43
    now = timezone.now()
    OutboxKey.objects.create(public=good, proof=outbox_keys.proof(good, now), seen_at=now)
    OutboxKey.objects.create(public=forged, proof="0" * 64, seen_at=now)
    old = now - outbox_keys.STALE - timezone.timedelta(seconds=1)
    OutboxKey.objects.create(public="s" * 43, proof=outbox_keys.proof("s" * 43, old), seen_at=old)

    def others() -> set[str]:
        # Tests run tasks inline, so this process is a worker with a key of its own.
        return set(outbox_keys.live_keys()) - outbox_keys.held_publics()

    assert others() == {good}
    assert others() == {good}  # asked again: the same answer
    with override_settings(SECRET_KEY="another-secret-" + "x" * 50):
        assert others() == set()  # proven under the old secret only


@pytest.mark.django_db(transaction=True)
def test_the_webhook_reads_the_workers_keys_before_and_the_chat_under_the_write_lock(
    fake_api, team
):
    """On SQLite the transaction holds the database's one write lock from its first
    statement (BEGIN IMMEDIATE), and another worker's update sleeps while it waits: the
    running workers' keys are read before it begins. The chat's row is read under it: the
    case or pending key an update is sealed to must be what the worker has committed."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL takes no database-wide write lock")
    start = fixture("message_start")
    _post(Client(), start)  # the chat exists now
    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert _post(Client(), start | {"update_id": start["update_id"] + 1}).status_code == 200
    begin = next(n for n, sql in enumerate(seen) if sql.startswith("BEGIN IMMEDIATE"))
    keys = connection.ops.quote_name(OutboxKey._meta.db_table)
    chats = connection.ops.quote_name(Chat._meta.db_table)
    key_reads = [n for n, sql in enumerate(seen) if f"FROM {keys} WHERE" in sql]
    chat_reads = [n for n, sql in enumerate(seen) if f"FROM {chats} WHERE" in sql]
    assert key_reads and key_reads[0] < begin
    assert chat_reads and min(chat_reads) > begin
    assert Update.objects.count() == 2


def test_a_host_not_allowed_is_refused_before_the_secret_is_looked_at(fake_api):
    answer = Client().post(
        WEBHOOK_PATH,
        json.dumps(fixture("message_start")),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        HTTP_HOST="203.0.113.9",
    )
    assert answer.status_code == 400
    assert Update.objects.count() == 0
    assert answer["Content-Security-Policy"] == NOTHING_ALLOWED


def test_an_answer_made_from_an_exception_keeps_the_security_headers(fake_api, settings):
    # A body over Django's own limit raises inside the view; its 400 is still a webhook
    # answer with every header.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    answer = _post(Client(), fixture("message_start"))
    assert answer.status_code == 400
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Content-Security-Policy"] == NOTHING_ALLOWED
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert Update.objects.count() == 0
