"""Answers to Telegram requesters wait for the worker sealed to a key only the worker holds,
in memory: no key on the server opens a queued answer, a restarted worker loses none (a
coordinator's browser hands the case key to the new worker, which opens the stored answer
itself, so nobody who sends it again can change it), and a sent row keeps no text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message
from krov.core import sealing
from krov.telegram import outbox, outbox_keys, tasks
from krov.telegram.models import Outbound, OutboxKey
from tests.helpers import signed_in
from tests.telegram.test_sealed import describe

pytestmark = pytest.mark.django_db

ANSWER = "Маркер-81: я допоможу, де ви зараз?"


@pytest.fixture(autouse=True)
def fresh_worker():
    """Each test starts as a worker that holds no key yet."""
    outbox_keys.forget()
    yield
    outbox_keys.forget()


@pytest.fixture
def held_back(monkeypatch):
    """The worker is not nudged: answers stay queued for the test to look at."""
    monkeypatch.setattr(tasks, "send_outbox", lambda: 0)


def raw_rows() -> str:
    """The outbox table as it lies on disk (field-key encryption not undone)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM telegram_outbound")
        return repr(cursor.fetchall())


def received(user, text: str) -> bool:
    return any(text in (message.get("text") or "") for message in user.inbox())


def answered_case(telegram_user, make_volunteer, coordinator):
    user = telegram_user()
    case = describe(user)
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    aid.post_reply(case, actor=volunteer.user, body=ANSWER)
    return user, case, Message.objects.get(request=case, direction="out")


def test_a_queued_answer_is_sealed_to_the_worker_and_no_server_key_opens_it(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    row = Outbound.objects.get(aid_message=reply)
    # Opened with every key the server holds (the field keys), the row has no text ...
    assert ANSWER not in row.params and ANSWER not in json.dumps(row.sealed, ensure_ascii=False)
    assert ANSWER not in raw_rows()
    assert list(row.sealed) == [OutboxKey.objects.get().public]
    assert sealing.is_sealed(next(iter(row.sealed.values())))
    # ... and the worker, which holds its key in memory only, sends it.
    outbox.send_due()
    assert ANSWER in user.last_text() and "Veter" not in user.last_text()
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.sealed == {} and row.params == "{}"
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT


def test_a_stopped_worker_leaves_the_answer_waiting_without_text_and_a_coordinator_sends_it(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    outbox_keys.forget()  # the worker stops: its key is gone with its memory
    with time_machine.travel(timezone.now() + outbox_keys.STALE + timedelta(seconds=1)):
        # The answer and the notice that a volunteer took the case both wait, text-less.
        assert outbox_keys.retire_stale() == 2
        row = Outbound.objects.get(aid_message=reply)
        assert row.status == Outbound.Status.WAITING and row.sealed == {}
        assert not OutboxKey.objects.exists()
        # A new worker starts; nothing it holds opens the old answer, so nothing is sent.
        outbox.send_due()
        assert not received(user, ANSWER)
        # A coordinator's open Krov hands the case key to the new worker, which opens the
        # stored answers with it.
        desk = signed_in(coordinator)
        waiting = desk.get("/en/aid/keys/relays/").json()["waiting"]
        assert str(reply.public_id) in [item["message"] for item in waiting]
        assert all(ANSWER not in item["body"] for item in waiting)
        for item in waiting:
            response = desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item))
            assert response.status_code == 200, response.content
        row = Outbound.objects.get(aid_message=reply)
        assert row.status == Outbound.Status.QUEUED and row.sealed_case_key
        assert ANSWER not in raw_rows()
        outbox.send_due()
    assert ANSWER in user.last_text()
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.sealed == {} and not row.sealed_case_key
    assert desk.get("/en/aid/keys/relays/").json()["waiting"] == []


def hand_case_key(team, case, item, *, private: bytes | None = None) -> dict:
    """What a coordinator's browser posts for a waiting answer: the case's private key (or
    `private`) sealed to each running worker for this message."""
    private = team.case_private(case) if private is None else private
    sealed = [
        sealing.seal_bytes(private, sender, sealing.outbox_case_key_info(sender, item["message"]))
        for sender in item["senders"]
    ]
    return {"message": item["message"], "sender": item["senders"], "sealed": sealed}


def waiting_answer(user, reply, coordinator) -> dict:
    """The answer's worker stopped and a new one runs: the answers it held (this one and the
    notice that a volunteer took the case) wait for a reader, as `retire_stale` leaves them."""
    Outbound.objects.filter(aid_message__isnull=False, status=Outbound.Status.QUEUED).update(
        status=Outbound.Status.WAITING, sealed={}
    )
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    outbox_keys.hold()
    waiting = signed_in(coordinator).get("/en/aid/keys/relays/").json()["waiting"]
    return next(item for item in waiting if item["message"] == str(reply.public_id))


def test_whoever_sends_a_waiting_answer_again_cannot_change_its_text(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    """A coordinator session (or a custodian token) that seals its own text, or a key of its
    own, to the worker gets nothing sent: the worker opens only the stored answer, and only
    with the case's own key. The answer keeps waiting for a reader who holds that key."""
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    item = waiting_answer(user, reply, coordinator)
    desk = signed_in(coordinator)
    forged_text = [
        sealing.seal("Marker-77 forged", sender, outbox_keys.info(sender, item["message"]))
        for sender in item["senders"]
    ]
    own_key = sealing.KeyPair.generate().private
    garbage = [sealing.seal_bytes(b"x" * 5, s, "krov/v1/nothing") for s in item["senders"]]
    for fields in (
        {"message": item["message"], "sender": item["senders"], "sealed": forged_text},
        hand_case_key(team, case, item, private=own_key),
        {"message": item["message"], "sender": item["senders"], "sealed": garbage},
    ):
        assert desk.post("/en/aid/keys/relays/", fields).status_code == 200
        outbox.send_due()
        assert not any("Marker-77" in (m.get("text") or "") for m in user.inbox())
        assert not received(user, ANSWER)
        row = Outbound.objects.get(aid_message=reply)
        assert row.status == Outbound.Status.WAITING and row.sealed == {}
    # The real case key sends the stored answer.
    assert desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item)).status_code == 200
    outbox.send_due()
    assert ANSWER in user.last_text()


def test_with_no_worker_running_an_answer_is_stored_without_text(
    telegram_user, team, make_volunteer, coordinator, held_back, monkeypatch
):
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: False)  # a web process
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    row = Outbound.objects.get(aid_message=reply)
    assert row.status == Outbound.Status.WAITING and row.sealed == {}
    assert ANSWER not in raw_rows()
    outbox_keys.hold()  # a worker starts
    waiting = signed_in(coordinator).get("/en/aid/keys/relays/").json()["waiting"]
    assert str(reply.public_id) in [item["message"] for item in waiting]


def test_resending_refuses_what_does_not_wait_or_keys_no_worker_holds(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    _user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    desk = signed_in(coordinator)
    live = OutboxKey.objects.get().public
    stranger = sealing.KeyPair.generate().public
    sealed = sealing.seal("forged", stranger, outbox_keys.info(stranger, str(reply.public_id)))

    # Not waiting (still queued for its worker): refused, the queued row is untouched.
    answer = desk.post(
        "/en/aid/keys/relays/", {"message": reply.public_id, "sender": live, "sealed": sealed}
    )
    assert answer.status_code == 409 and "no longer waits" in answer.json()["error"]
    Outbound.objects.filter(aid_message=reply).update(status=Outbound.Status.WAITING, sealed={})
    # Sealed to a key no worker holds: refused, it keeps waiting.
    answer = desk.post(
        "/en/aid/keys/relays/", {"message": reply.public_id, "sender": stranger, "sealed": sealed}
    )
    assert answer.status_code == 409
    assert Outbound.objects.get(aid_message=reply).status == Outbound.Status.WAITING
    # Malformed: an unknown answer, keys and texts that do not pair up, nothing at all.
    for fields in (
        {"message": "not-a-uuid", "sender": live, "sealed": sealed},
        {"message": reply.public_id, "sender": [live, stranger], "sealed": sealed},
        {"message": reply.public_id},
    ):
        answer = desk.post("/en/aid/keys/relays/", fields)
        assert answer.status_code in (400, 409) and answer.json()["error"]


def test_a_coordinator_without_the_team_key_is_asked_for_nothing(
    telegram_user, team, make_volunteer, coordinator, held_back, personas
):
    from tests.conftest import make_persona

    _user, _case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    Outbound.objects.filter(aid_message=reply).update(status=Outbound.Status.WAITING, sealed={})
    other = make_persona("coordinator", email="second-coordinator@example.org").user
    assert signed_in(other).get("/en/aid/keys/relays/").json()["waiting"] == []


def test_an_answer_for_a_purged_message_is_dropped_not_sent(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    Message.objects.filter(pk=reply.pk).delete()
    outbox.send_due()
    assert not received(user, ANSWER)
    assert Outbound.objects.filter(status=Outbound.Status.FAILED, sealed={}).count() == 1


def test_asking_for_waiting_answers_costs_the_same_queries_however_many_wait(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    from django.test.utils import CaptureQueriesContext

    desk = signed_in(coordinator)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as seen:
            waiting = desk.get("/en/aid/keys/relays/").json()["waiting"]
        return len(seen), len(waiting)

    volunteer = make_volunteer("Veter", max_cases=5)
    for index in range(5):
        user = telegram_user(555100200 + index)
        user.say("/start")
        user.press("lang:uk")
        user.press("cat:driving")
        user.say(f"request {index}")
        case = HelpRequest.objects.order_by("-id").first()
        aid.assign(case, volunteer, actor=coordinator)
        aid.post_reply(case, actor=volunteer.user, body=f"answer {index}")
        Outbound.objects.filter(aid_message__isnull=False).update(
            status=Outbound.Status.WAITING, sealed={}
        )
        if index == 0:
            few, count = queries()
            assert count == 2  # the answer and the notice that a volunteer took the case
    many, count = queries()
    assert count == 10
    assert many == few


def test_a_row_this_worker_cannot_open_waits_without_losing_an_attempt_and_starts_afresh(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    """Workers come and go more often than Telegram fails: neither a worker that could not
    open a row nor a reader's resend may use up the row's attempts."""
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    (held,) = outbox_keys.held_publics()
    # Sealed to this worker's key, but not openable with it (damaged, or sealed elsewhere).
    Outbound.objects.filter(aid_message=reply).update(attempts=5, sealed={held: "damaged"})
    outbox.send_due()
    row = Outbound.objects.get(aid_message=reply)
    assert (row.status, row.attempts, row.sealed) == (Outbound.Status.WAITING, 5, {})
    desk = signed_in(coordinator)
    item = next(
        i
        for i in desk.get("/en/aid/keys/relays/").json()["waiting"]
        if i["message"] == str(reply.public_id)
    )
    response = desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item))
    assert response.status_code == 200, response.content
    assert Outbound.objects.get(aid_message=reply).attempts == 0
    outbox.send_due()
    assert ANSWER in user.last_text()


def test_a_worker_that_cannot_send_whats_due_gives_the_lease_back_and_asks_again_soon(
    telegram_user, team, make_volunteer, coordinator, held_back, monkeypatch
):
    """Two workers: the rows due are sealed to the other. This one must not hold the
    sender's lease for its whole budget (the other could send nothing meanwhile: deploy-check
    saw 78 s without a message after a worker restart); it stops at once and a retry in a
    moment lets whichever worker takes it send."""
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    other = "o" * 43
    seen = timezone.now()
    OutboxKey.objects.create(public=other, seen_at=seen, proof=outbox_keys.proof(other, seen))
    Outbound.objects.filter(aid_message=reply).update(sealed={other: "for the other worker"})
    outbox.send_due()  # what this worker can send (the notices) goes
    slept: list[float] = []
    started = timezone.now()
    assert outbox.send_due(sleep=slept.append) == 0
    assert slept == []  # no waiting out the budget
    assert Outbound.objects.get(aid_message=reply).status == Outbound.Status.QUEUED
    scheduled: list[float] = []
    monkeypatch.setattr(
        tasks.send_outbox, "schedule", lambda delay: scheduled.append(delay), raising=False
    )
    from django.core.cache import cache

    cache.delete("telegram-outbox-wake")
    tasks._wake_for(outbox.next_due())
    assert scheduled == [tasks.OTHERS_RETRY_SECONDS]
    assert (timezone.now() - started).total_seconds() < 20


# --- a proof holds for one announcement (security review F7) -------------------------------
# A worker's private key may outlive it: a memory image of a seized or compromised worker
# holds it. Whoever has it and can later write to the database must not make that key live
# again: the proof beside a key holds only for the `seen_at` it was written with.

STOLEN_AT = datetime(2027, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def web_process(monkeypatch):
    """Ask as the webhook does: a web process, which holds no key and renews none."""
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: False)


def stolen_key() -> OutboxKey:
    """A worker announced its key at STOLEN_AT and stopped; its memory (and so the private
    half) is in someone else's hands, and so is a copy of its row."""
    with time_machine.travel(STOLEN_AT, tick=False):
        public = outbox_keys.hold()
        assert public in outbox_keys.live_keys()
        outbox_keys.forget()
    return OutboxKey.objects.get(public=public)


def later() -> time_machine.travel:
    """Long after the stolen key's worker stopped: its own announcement went stale."""
    return time_machine.travel(STOLEN_AT + outbox_keys.STALE + timedelta(hours=5), tick=False)


def test_a_stopped_workers_key_renewed_without_the_secret_beside_its_old_proof_is_not_live(
    web_process,
):
    stolen = stolen_key()
    with later():
        # Written into the database by someone who lacks KROV_SECRET_KEY: a fresh time beside
        # the proof the worker wrote.
        renewed = OutboxKey.objects.filter(public=stolen.public, proof=stolen.proof)
        assert renewed.update(seen_at=timezone.now()) == 1
        assert stolen.public not in outbox_keys.live_keys()
        assert outbox_keys.seal_for_workers("m-1", "a chat id or an answer") == {}
        # Renewed within the same second it was announced, in another form: still not live.
        renewed.update(seen_at=timezone.now().replace(microsecond=0))
        assert stolen.public not in outbox_keys.live_keys()


def test_a_stopped_workers_deleted_row_put_back_with_its_old_proof_is_not_live(web_process):
    stolen = stolen_key()
    with later():
        assert outbox_keys.retire_stale() == 0
        assert not OutboxKey.objects.exists()
        OutboxKey.objects.create(
            public=stolen.public,
            created_at=stolen.created_at,
            seen_at=timezone.now(),
            proof=stolen.proof,
        )
        assert outbox_keys.live_keys() == []


def test_answers_sealed_to_a_key_kept_fresh_without_the_secret_wait_for_a_reader(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    """Kept fresh, the stopped worker's row is not deleted as stale: what was sealed to it
    must still go to a reader, not sit queued for a worker that is not there."""
    with time_machine.travel(STOLEN_AT, tick=False):
        user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
        (stolen,) = outbox_keys.held_publics()
        outbox_keys.forget()
    with later():
        OutboxKey.objects.filter(public=stolen).update(seen_at=timezone.now())
        assert outbox_keys.retire_stale() == 2  # the answer and the volunteer's notice
        row = Outbound.objects.get(aid_message=reply)
        assert row.status == Outbound.Status.WAITING and row.sealed == {}


def test_a_running_worker_renewing_its_key_keeps_it_live_and_never_loses_it(web_process):
    start = STOLEN_AT
    with time_machine.travel(start, tick=False):
        public = outbox_keys.hold()
    # A row as the previous version wrote it (a proof of the key alone): not live until its
    # worker next renews it, which it does without losing its key.
    unbound = salted_hmac("krov.telegram.outbox-key", public, algorithm="sha256").hexdigest()
    OutboxKey.objects.filter(public=public).update(proof=unbound)
    with time_machine.travel(start, tick=False):
        assert outbox_keys.live_keys() == []
    for minute in range(1, 11):  # the sweep's heartbeat, once a minute, past STALE
        with time_machine.travel(start + timedelta(minutes=minute, seconds=0.7), tick=False):
            assert outbox_keys.hold() == public
            assert outbox_keys.live_keys() == [public]
            outbox_keys.retire_stale()
    assert OutboxKey.objects.get().public == public
    assert outbox_keys.held_publics() == {public}


def test_a_key_announced_under_another_secret_is_not_live(web_process):
    with time_machine.travel(STOLEN_AT, tick=False):
        public = outbox_keys.hold()
        assert outbox_keys.live_keys() == [public]  # remembered as proven under this secret
        with override_settings(SECRET_KEY="a-replaced-secret-" + "x" * 50):
            assert outbox_keys.live_keys() == []
            assert outbox_keys.hold() == public  # its worker, given the new secret, renews it
            assert outbox_keys.live_keys() == [public]
        assert outbox_keys.live_keys() == []  # proven under the new secret only


def test_the_proof_holds_for_the_time_as_the_database_gives_it_back():
    """What the plain SELECT returns (text on SQLite, a datetime on PostgreSQL) is the
    instant the proof was made for, to the microsecond, in any time zone."""
    with time_machine.travel(STOLEN_AT, tick=False):
        zone = ZoneInfo("America/Los_Angeles")
        for public, seen_at in (
            ("m" * 43, timezone.now()),  # microseconds
            ("z" * 43, timezone.now().astimezone(zone)),  # another zone, the same instant
        ):
            proof = outbox_keys.proof(public, seen_at)
            OutboxKey.objects.create(public=public, seen_at=seen_at, proof=proof)
        with override_settings(TIME_ZONE="Asia/Tokyo"):
            assert set(outbox_keys.live_keys()) - outbox_keys.held_publics() == {
                "m" * 43,
                "z" * 43,
            }
