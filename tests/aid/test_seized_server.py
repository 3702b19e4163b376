"""A seized server, with every key on it, yields no sealed case content.

SQLite: a whole sealed flow runs in another process on a real database file and data
folder; then everything the server holds (database, WAL, queue, cache, logs, field keys,
the secret key) is taken, every Fernet token in it is opened with every field key, every
sealed value found is tried with every key found, and no marker text appears. A reader key
from outside the server (a coordinator's browser) proves the content is really there.

PostgreSQL: after the purge and a team-key renewal, the heap files and the WAL are carved
and nothing opens even with the current team key."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from krov.core import sealing
from krov.telegram import chat_ids, outbox_keys

# No other test may write these: the PostgreSQL carving reads the WAL of the whole run, and
# another test's text kept under the field keys (a parked update from before sealing) would be
# found there.
CHAT_ID = "555000777"  # the Telegram requester's, in FLOW
EMAIL = "marker-seized-4e1@example.org"  # the web requester's, for "someone answered"
MARKERS = [
    "Маркер-91",
    "Marker-92",
    "Marker-93",
    "Marker-94",
    "Marker-95",
    "Marker-96",
    "Marker-97",
    "Marker98",
    "Marker-99",
]
FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")
SEALED_VALUE = re.compile(r"[ks]1\.[A-Za-z0-9_\-]+")

FLOW = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from krov.accounts import roles
from krov.aid import services
from krov.aid.models import HelpRequest, Skill
from krov.core import sealing
from tests.conftest import make_persona

coordinator = make_persona(roles.COORDINATOR).user
reader = sealing.KeyPair.generate()
services.register_reader_key(coordinator, public_key=reader.public)
team = sealing.KeyPair.generate()
services.create_team_key(
    actor=coordinator, public_key=team.public,
    wrapped_for_self=sealing.seal_bytes(team.private, reader.public,
                                        sealing.team_key_info(team.public)))
volunteer_user = make_persona(roles.MEMBER, email="veter@example.org").user
TOTP.activate(volunteer_user, generate_totp_secret())
volunteer = services.vouch_for(volunteer_user, actor=coordinator, languages=["uk"])
services.set_trust(volunteer, 1, actor=coordinator)
submitted = services.submit_request(
    channel="web", language="uk", skill=Skill.objects.get(slug="legal"),
    description="Маркер-91 мама в Бердянську", region="Marker-92 Запоріжжя",
    email="marker-seized-4e1@example.org")
case = submitted.request
services.assign(case, volunteer, actor=coordinator)
services.post_reply(case, actor=volunteer_user, body="Marker-93 reply")
services.post_requester_message(case, body="Marker-94 from the requester")
services.add_note(case, actor=volunteer_user, body="Marker-95 a note")
services.hand_over(case, actor=volunteer_user, reason="Marker-95 handing over")

# A Telegram requester writes to the bot, sends a photo with a caption, and is answered.
from pathlib import Path
from django.test import Client
from krov.telegram import intake, outbox_keys
from krov.telegram.models import Chat
from krov.telegram.views import SECRET_HEADER
outbox_keys.hold()  # as the worker does when it starts: the key lives in this memory only
import os
fixtures = Path(os.environ["PYTHONPATH"]) / "tests" / "telegram" / "fixtures"
webhook = Client(HTTP_HOST="localhost")
chat_id, sequence = 555000777, iter(range(100, 200))
def post(update):
    update["update_id"] = 910000000 + next(sequence)
    response = webhook.post("/telegram/webhook", json.dumps(update),
                            content_type="application/json",
                            **{SECRET_HEADER: "seized-server-webhook-secret"})
    assert response.status_code == 200, response.content
    for key in intake.pending_chats(older_than_seconds=0):
        intake.process_chat(key)
def say(text=None, photo=None, caption=None):
    update = json.loads((fixtures / "message_start.json").read_text())
    message = update["message"]
    message["message_id"] = next(sequence)
    message["chat"]["id"] = message["from"]["id"] = chat_id
    message.pop("entities", None)
    message.pop("text", None)
    if text:
        message["text"] = text
    if photo:
        message["photo"] = [{"file_id": photo, "file_unique_id": "u" + photo,
                             "width": 1280, "height": 960}]
        message["caption"] = caption
    post(update)
def press(data):
    update = json.loads((fixtures / "callback_language.json").read_text())
    query = update["callback_query"]
    query["id"] = str(next(sequence))
    query["from"]["id"] = query["message"]["chat"]["id"] = chat_id
    query["data"] = data
    post(update)
say("/start")
press("lang:uk")
press("cat:legal")
say("Marker-96 from Telegram: we are in Vasylivka")
say(photo="AgACAgMarker98photo", caption="Marker-97 the evacuation paper")
tg_case = HelpRequest.objects.get(channel="telegram")
assert tg_case.is_sealed and tg_case.messages.count() >= 1
services.assign(tg_case, volunteer, actor=coordinator)
services.post_reply(tg_case, actor=volunteer_user, body="Marker-99 answer on its way to Telegram")
print(json.dumps({
    "reader": sealing.b64encode(reader.private),
    "case": str(case.public_id),
    "telegram_case": str(tg_case.public_id),
    "outbox": [[public, str(message)] for public in outbox_keys.held_publics()
               for message in tg_case.messages.values_list("public_id", flat=True)],
    "chats": [[public, key] for public in outbox_keys.held_publics()
              for key in Chat.objects.values_list("key", flat=True)],
}))
"""


def field_fernets(keys: list[str]) -> list[Fernet]:
    return [Fernet(key) for key in keys]


def open_tokens(blobs: list[bytes], fernets: list[Fernet]) -> list[str]:
    """Every Fernet token in the blobs, opened with every field key that opens it."""
    opened = []
    for blob in blobs:
        for token in set(FERNET_TOKEN.findall(blob)):
            for fernet in fernets:
                try:
                    opened.append(fernet.decrypt(token).decode("utf-8", "replace"))
                except InvalidToken:
                    continue
    return opened


def candidate_private_keys(secrets: list[bytes]) -> list[bytes]:
    """Every 32-byte value a seized server offers as an X25519 private key."""
    candidates = []
    for secret in secrets:
        raw = secret
        with contextlib.suppress(ValueError):
            raw = base64.urlsafe_b64decode(secret + b"=" * (-len(secret) % 4))
        for material in {secret, raw}:
            candidates.append(hashlib.sha256(material).digest())
            for start in range(0, max(len(material) - 31, 1), 16):
                chunk = material[start : start + 32]
                if len(chunk) == 32:
                    candidates.append(chunk)
    return candidates


def assert_nothing_opens(
    texts: list[str], candidates: list[bytes], case_id: str, extra_infos: tuple[str, ...] = ()
) -> None:
    infos = [
        sealing.content_info(case_id, field)
        for field in (
            "request.description",
            "request.region",
            "message",
            "message.attachment",
            "note",
            "request.contact",
        )
    ] + [sealing.case_key_info(case_id), *extra_infos]
    sealed = {value for text in texts for value in SEALED_VALUE.findall(text)}
    assert sealed, "the flow left no sealed values to try"
    for value in sealed:
        if not value.startswith("k1."):
            continue
        for key in candidates:
            for info in infos:
                with pytest.raises(sealing.SealingError):
                    sealing.open_bytes(value, key, info)


def test_a_seized_sqlite_server_with_every_key_on_it_yields_no_case_text(tmp_path):
    data = tmp_path / "var"
    data.mkdir()
    log = tmp_path / "krov.log"
    # The keys are made by the server itself, in its data folder, as in `make run`.
    inherited = {
        k: v for k, v in os.environ.items() if k not in {"KROV_FIELD_KEYS", "KROV_SECRET_KEY"}
    }
    env = {
        **inherited,
        "KROV_DEBUG": "1",
        "KROV_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data}/krov.sqlite3",
        "DJANGO_SETTINGS_MODULE": "krov.settings",
        "REDIS_URL": "",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        # Telegram, with an API address where nothing answers: answers stay in the outbox.
        "TELEGRAM_BOT_TOKEN": "123:seized",
        "TELEGRAM_WEBHOOK_SECRET": "seized-server-webhook-secret",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
    }
    with log.open("w") as out:
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", FLOW], env=env, stdout=subprocess.PIPE, stderr=out, timeout=180
        )
    assert result.returncode == 0, log.read_text()[-3000:]
    outside = json.loads(result.stdout.decode().strip().splitlines()[-1])

    # Everything the server holds: every file in its data folder (database, WAL, queue,
    # cache, generated keys), its log, its environment.
    files = [path for path in data.rglob("*") if path.is_file()] + [log]
    blobs = [path.read_bytes() for path in files]
    blobs.append("\n".join(f"{k}={v}" for k, v in env.items()).encode())
    for marker in MARKERS:
        for path, blob in zip(files, blobs, strict=False):
            assert marker.encode() not in blob, f"{marker} in {path.name}"

    field_keys = [k.strip() for k in (data / "field-keys.txt").read_text().split(",") if k.strip()]
    fernets = []
    for key in set(field_keys):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            continue
    assert fernets, "the field keys were not found where the server keeps them"
    opened = open_tokens(blobs, fernets)
    assert opened, "nothing opened with the field keys: the search looked in the wrong place"
    for marker in MARKERS:
        assert not any(marker in text for text in opened), marker
    # The Telegram requester's chat id: not in the clear, not under the field keys.
    for path, blob in zip(files, blobs, strict=False):
        assert CHAT_ID.encode() not in blob, f"the chat id in {path.name}"
    assert not any(CHAT_ID in text for text in opened), "a field key opens the chat id"
    # Nor the web requester's email address.
    for path, blob in zip(files, blobs, strict=False):
        assert EMAIL.encode() not in blob, f"the email address in {path.name}"
    assert not any(EMAIL in text for text in opened), "a field key opens the email address"

    secrets = [key.encode() for key in field_keys] + [
        (data / "secret-key.txt").read_bytes().strip()
    ]
    candidates = candidate_private_keys(secrets)
    assert_nothing_opens(opened, candidates, outside["case"])
    outbox_infos = tuple(outbox_keys.info(public, message) for public, message in outside["outbox"])
    assert outbox_infos, "the flow sealed no answer to the worker"
    chat_infos = tuple(chat_ids.info(public, key) for public, key in outside["chats"])
    assert chat_infos, "the flow sealed no chat id to the worker"
    assert_nothing_opens(opened, candidates, outside["telegram_case"], outbox_infos + chat_infos)

    # The content is there: a coordinator's browser key, from outside the server, opens it.
    script = f"""
import django, json
django.setup()
from krov.aid import services
from krov.aid.models import HelpRequest
from krov.core import sealing
case = HelpRequest.objects.get(public_id={outside["case"]!r})
coordinator = case.key_grants.get(team_key__isnull=False).team_key.created_by
grant = services.team_key_grant_for(coordinator)
reader = sealing.b64decode({outside["reader"]!r})
team = sealing.open_bytes(grant.wrapped, reader, sealing.team_key_info(grant.team_key.public_key))
wrapped = case.key_grants.get(team_key=grant.team_key).wrapped
private = sealing.open_bytes(wrapped, team, sealing.case_key_info(str(case.public_id)))
opened = [sealing.open_sealed(case.description, private,
          sealing.content_info(str(case.public_id), "request.description"))]
opened.append(sealing.open_sealed(case.contact_handle, private,
              sealing.content_info(str(case.public_id), "request.contact")))
tg = HelpRequest.objects.get(public_id={outside["telegram_case"]!r})
wrapped = tg.key_grants.get(team_key=grant.team_key).wrapped
private = sealing.open_bytes(wrapped, team, sealing.case_key_info(str(tg.public_id)))
opened.append(sealing.open_sealed(tg.description, private,
              sealing.content_info(str(tg.public_id), "request.description")))
for message in tg.messages.order_by("id"):
    info = sealing.content_info(str(tg.public_id), "message")
    opened.append(sealing.open_sealed(message.body, private, info))
    if message.attachment_ref:
        opened.append(sealing.open_sealed(message.attachment_ref, private, info + ".attachment"))
opened.append(sealing.open_sealed(tg.contact_handle, private,
              sealing.content_info(str(tg.public_id), "request.contact")))
print(json.dumps(opened, ensure_ascii=False))
"""
    check = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr[-2000:]
    readable = "\n".join(json.loads(check.stdout.strip().splitlines()[-1]))
    # The web request, and every text of the Telegram case, the photo's reference included.
    for marker in ("Маркер-91", "Marker-96", "Marker-97", "Marker98", "Marker-99", CHAT_ID, EMAIL):
        assert marker in readable, marker


def telegram_dialogue(settings, chat_id: int, text: str) -> None:
    """A Telegram requester asks for help, then deletes everything with /forget, through the
    webhook as Telegram would (the Bot API answers nowhere: replies stay queued)."""
    from django.test import Client

    from krov.telegram import intake, outbox_keys
    from krov.telegram.views import SECRET_HEADER

    settings.TELEGRAM_BOT_TOKEN = "123:seized"
    settings.TELEGRAM_WEBHOOK_SECRET = "seized-server-webhook-secret"
    settings.TELEGRAM_API_BASE_URL = "http://127.0.0.1:9"
    outbox_keys.hold()
    fixtures = Path(__file__).resolve().parents[1] / "telegram" / "fixtures"
    client, sequence = Client(), iter(range(300, 400))

    def post(update: dict) -> None:
        update["update_id"] = 920000000 + next(sequence)
        response = client.post(
            "/telegram/webhook",
            json.dumps(update),
            content_type="application/json",
            **{SECRET_HEADER: "seized-server-webhook-secret"},
        )
        assert response.status_code == 200, response.content
        for key in intake.pending_chats(older_than_seconds=0):
            intake.process_chat(key)

    def say(words: str) -> None:
        update = json.loads((fixtures / "message_start.json").read_text())
        update["message"]["message_id"] = next(sequence)
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
        update["message"].pop("entities", None)
        update["message"]["text"] = words
        post(update)

    def press(data: str) -> None:
        update = json.loads((fixtures / "callback_language.json").read_text())
        query = update["callback_query"]
        query["id"] = str(next(sequence))
        query["from"]["id"] = query["message"]["chat"]["id"] = chat_id
        query["data"] = data
        post(update)

    say("/start")
    press("lang:uk")
    press("cat:legal")
    say(text)
    say("/forget")
    press("forget:yes")


@pytest.mark.django_db(transaction=True)
def test_postgresql_heap_and_wal_yield_nothing_after_purge_and_renewal(
    submit, make_volunteer, coordinator, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass")
    from datetime import timedelta

    from django.utils import timezone

    from krov.aid import services
    from krov.aid.models import HelpRequest
    from tests.aid.test_sealed_cases import make_team, rotate

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("carving heap and WAL needs a superuser connection")
    browser = make_team(coordinator)
    volunteer = make_volunteer("Veter")
    case, _token = submit("Маркер-91 мама в Бердянську")
    services.assign(case, volunteer, actor=coordinator)
    browser.share_pending_case_keys()
    services.post_reply(case, actor=volunteer.user, body="Marker-93 reply")
    services.add_note(case, actor=volunteer.user, body="Marker-95 a note")
    case_id = str(case.public_id)
    services.close_case(case, actor=volunteer.user, outcome=HelpRequest.Outcome.HELPED)
    # A web requester who asked to be emailed, then deleted everything.
    emailed = services.submit_request(
        channel="web",
        language="uk",
        skill=case.skill,
        description="Marker-94 please write to me",
        email=EMAIL,
    ).request
    services.forget(emailed)
    services.purge(now=timezone.now() + timedelta(days=settings.KROV_RETENTION_DAYS + 8))
    # A Telegram requester who deleted everything with /forget.
    telegram_dialogue(settings, int(CHAT_ID), "Marker-96 from Telegram: we are in Vasylivka")
    assert not HelpRequest.objects.filter(channel="telegram", purged_at__isnull=True).exists()
    rotate(browser)
    current_team = browser.team_private()

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 't') "
            "AND pg_relation_filepath(c.oid) IS NOT NULL"
        )
        paths = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT name FROM pg_ls_waldir() ORDER BY modification DESC LIMIT 4")
        paths += [f"pg_wal/{row[0]}" for row in cursor.fetchall()]
        blobs = []
        for path in paths:
            cursor.execute("SELECT pg_read_binary_file(%s, 0, 67108864, true)", [path])
            blob = cursor.fetchone()[0]
            if blob:
                blobs.append(bytes(blob))
    for marker in MARKERS:
        assert not any(marker.encode() in blob for blob in blobs), marker
    opened = open_tokens(blobs, field_fernets(settings.KROV_FIELD_KEYS))
    assert any("k1." in text for text in opened), "the carving found no sealed rows"
    for marker in MARKERS:
        assert not any(marker in text for text in opened), marker
    # Nor the Telegram requester's chat id, in the clear or under the field keys.
    assert not any(CHAT_ID.encode() in blob for blob in blobs), "the chat id in heap or WAL"
    assert not any(CHAT_ID in text for text in opened), "a field key opens the chat id"
    assert not any(EMAIL.encode() in blob for blob in blobs), "the address in heap or WAL"
    assert not any(EMAIL in text for text in opened), "a field key opens the address"
    # Not even the current team key opens what the purged case left behind.
    candidates = [
        current_team,
        *candidate_private_keys([k.encode() for k in settings.KROV_FIELD_KEYS]),
    ]
    assert_nothing_opens(opened, candidates, case_id)
