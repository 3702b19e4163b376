"""The webhook and the worker on PostgreSQL (READ COMMITTED), two connections at once.

A requester's follow-up arrives while the worker turns their description into a case
(`dialogue._submit`: the case takes the pending key over and deletes it, then the chat row
gets the case). On SQLite the webhook's transaction starts with BEGIN IMMEDIATE and waits for
the worker's commit; on PostgreSQL nothing makes it wait: it reads the chat row with a plain
SELECT and may see it as it was before the worker's commit. Each test below stops the
webhook (or the worker, or a coordinator) at one exact point with events, never sleeps, and
looks at where the follow-up ends up.

Run on PostgreSQL: KROV_TEST_DATABASE_URL=postgres://... pytest <this file>
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time

import pytest
from django.db import connection
from django.utils.translation import gettext, override

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message, PendingCaseKey, Skill
from krov.telegram import intake, sealed_intake, services
from krov.telegram.models import Chat, Outbound, Update
from tests.aid.test_sealed_cases import make_team
from tests.telegram.conftest import fixture

pytestmark = [pytest.mark.django_db(transaction=True)]

WAIT = 30  # seconds: the most any step waits for the other side; never reached when it works
CHAT_ID = 555000777
FOLLOW_UP = "Маркер-R2: ми вже біля Василівки"
_ids = itertools.count(930000000)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")


@pytest.fixture
def quiet(settings, monkeypatch):
    """The webhook's nudge would process the chat in the storing thread (Huey runs tasks at
    once in tests): here each test says who processes what, and when. No Bot API either:
    what the requester is told stays in the outbox, where the tests read it."""
    settings.TELEGRAM_BOT_TOKEN = ""
    monkeypatch.setattr(intake, "_nudge_unless_queued_behind", lambda key, update_id: None)
    if not Skill.objects.filter(slug="other").exists():  # a flush took the migrations' rows
        Skill.objects.create(slug="other", name="Other")


@pytest.fixture
def team(coordinator):
    return make_team(coordinator)


def message(text: str) -> dict:
    update = copy.deepcopy(fixture("message_start"))
    update["update_id"] = next(_ids)
    body = update["message"]
    body["message_id"] = next(_ids) % 100000
    body["chat"]["id"] = body["from"]["id"] = CHAT_ID
    body["text"] = text
    body.pop("entities", None)
    return update


def press(data: str) -> dict:
    update = copy.deepcopy(fixture("callback_language"))
    update["update_id"] = next(_ids)
    query = update["callback_query"]
    query["id"] = str(next(_ids))
    query["from"]["id"] = query["message"]["chat"]["id"] = CHAT_ID
    query["data"] = data
    return update


def key() -> str:
    return services.chat_key(CHAT_ID)


def store(update: dict) -> int:
    assert intake.store(copy.deepcopy(update))
    return update["update_id"]


def process() -> int:
    return intake.process_chat(key())


def describing() -> int:
    """The chat asks for a description; the description is stored (sealed to the pending
    key), not processed yet. Returns its update_id."""
    for update in (message("/start"), press("lang:uk"), press("cat:other")):
        store(update)
        process()
    chat = Chat.objects.get(key=key())
    assert chat.state == Chat.State.DESCRIBE and chat.request_id is None
    description = store(message("Маркер-R1: треба виїхати з Бердянська"))
    chat.refresh_from_db()
    assert PendingCaseKey.objects.filter(case_id=chat.pending_case_id).exists()
    assert sealed_part(description)["case"] == str(chat.pending_case_id)
    return description


def with_open_case() -> HelpRequest:
    describing()
    process()
    case = HelpRequest.objects.get(channel="telegram")
    assert Chat.objects.get(key=key()).request_id == case.pk and case.is_open
    return case


def sealed_part(update_id: int) -> dict:
    return json.loads(Update.objects.get(update_id=update_id).payload).get("krov_sealed") or {}


def told() -> list[str]:
    return [json.loads(row.params).get("text", "") for row in Outbound.objects.order_by("pk")]


def requester_texts(team, case: HelpRequest) -> list[str]:
    return [
        team.read(case, "message", m.body)
        for m in Message.objects.filter(request=case, direction="in").order_by("pk")
    ]


class Side(threading.Thread):
    """One side of the race on its own connection; what it raised is raised at join."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self._target_fn, self.error, self.result = target, None, None

    def run(self):
        try:
            self.result = self._target_fn()
        except BaseException as error:  # noqa: BLE001 - handed to the test at join
            self.error = error
        finally:
            connection.close()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "a side of the race never finished"
        if self.error is not None:
            raise self.error
        return self.result


def wait(event: threading.Event, what: str) -> None:
    assert event.wait(WAIT), f"timed out waiting for: {what}"


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked_on_a_lock(pid: int) -> None:
    """Return once PostgreSQL reports `pid` waiting for a lock (a condition polled, bounded)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError("the webhook never waited for the worker's row lock")


def outcome(team, follow_up: int) -> dict:
    """Process the follow-up (unless the worker's run took it already) and say where it
    went, and what the requester was told after their request's code."""
    process()
    case = HelpRequest.objects.get(channel="telegram")
    texts = told()
    confirmed = max(n for n, text in enumerate(texts) if case.code in text)
    return {
        "sealed": sealed_part_seen[follow_up],
        "case": str(case.public_id),
        "in_case": FOLLOW_UP in requester_texts(team, case),
        "status": Update.objects.get(update_id=follow_up).status,
        "told": texts[confirmed + 1 :],
    }


sealed_part_seen: dict[int, dict] = {}


def summary(result: dict) -> str:
    """What a failure shows: where the follow-up was sealed, the case, what was said, and
    the pending keys left behind (made for a case that will never come)."""
    chat = Chat.objects.get(key=key())
    shown = {
        "sealed_to": f"{result['sealed'].get('kind')}:{result['sealed'].get('case')}",
        "case": result["case"],
        "in_case": result["in_case"],
        "told": result["told"],
        "chat_pending_case_id": str(chat.pending_case_id),
        "pending_keys_left": [str(k.case_id) for k in PendingCaseKey.objects.all()],
    }
    return json.dumps(shown, ensure_ascii=False)


def stored_follow_up(update: dict) -> int:
    """The webhook's side: store the follow-up and note what it was sealed to."""
    update_id = store(update)
    sealed_part_seen[update_id] = sealed_part(update_id)
    return update_id


RESEND = "Please send your message again."


def in_ukrainian(text: str) -> str:
    with override("uk"):
        return gettext(text)


# --- 1. the webhook reads the chat before the worker's commit, seals and inserts after it ---


def test_a_follow_up_read_before_the_workers_commit_and_stored_after_it_reaches_the_case(
    quiet, team, monkeypatch
):
    describing()
    follow_up = message(FOLLOW_UP)
    read, committed = threading.Event(), threading.Event()
    seen_request: list = []
    original = sealed_intake._seal_for_requester

    def after_the_read(chat, body, attachment):
        if threading.current_thread() is webhook:
            seen_request.append(chat.request_id)
            read.set()  # the chat row is read (plain SELECT): now the worker commits
            wait(committed, "the worker's commit")
        return original(chat, body, attachment)

    monkeypatch.setattr(sealed_intake, "_seal_for_requester", after_the_read)
    webhook = Side(lambda: stored_follow_up(follow_up))
    webhook.start()
    wait(read, "the webhook's read of the chat")
    assert process() == 1  # the description becomes a case, committed
    committed.set()
    update_id = webhook.finish()
    assert seen_request == [None]  # the interleaving happened: the read was before the case

    result = outcome(team, update_id)
    assert result["status"] == Update.Status.DONE
    assert result["in_case"] and in_ukrainian(RESEND) not in result["told"], summary(result)


# --- 2. the webhook's _pending_key waits on the worker's lock of the chat row ----------------


def test_a_follow_up_whose_pending_key_waits_for_the_workers_row_lock_reaches_the_case(
    quiet, team, monkeypatch
):
    describing()
    follow_up = message(FOLLOW_UP)
    holds, release = threading.Event(), threading.Event()
    pid: list[int] = []
    original = services.set_dialogue_state

    def holding_the_row(chat, state, **fields):
        original(chat, state, **fields)  # UPDATE of the chat row: its lock held to commit
        if threading.current_thread() is worker and state == Chat.State.CASE:
            holds.set()
            wait(release, "the webhook to queue behind the row lock")

    monkeypatch.setattr(services, "set_dialogue_state", holding_the_row)
    read = threading.Event()
    seen_request: list = []
    seal = sealed_intake._seal_for_requester

    def after_the_read(chat, body, attachment):
        if threading.current_thread() is webhook:
            seen_request.append(chat.request_id)  # read with a plain SELECT, not blocked
            read.set()
        return seal(chat, body, attachment)

    monkeypatch.setattr(sealed_intake, "_seal_for_requester", after_the_read)

    def webhook_side():
        pid.append(backend_pid())
        return stored_follow_up(follow_up)

    worker = Side(process)
    worker.start()
    wait(holds, "the worker to hold the chat row")
    webhook = Side(webhook_side)
    webhook.start()
    wait(read, "the webhook's read of the chat")  # its backend's pid is known by then
    wait_until_blocked_on_a_lock(pid[0])  # now in _pending_key's SELECT ... FOR UPDATE
    assert seen_request == [None]  # the chat as it was before the worker's commit
    release.set()
    assert worker.finish() >= 1  # its run goes on with the follow-up if committed by then
    update_id = webhook.finish()

    result = outcome(team, update_id)
    assert result["status"] == Update.Status.DONE
    assert result["in_case"] and in_ukrainian(RESEND) not in result["told"], summary(result)


# --- 3. the webhook seals and commits inside the worker's transaction -----------------------


def test_a_follow_up_sealed_while_the_worker_has_taken_the_pending_key_over_reaches_the_case(
    quiet, team, monkeypatch
):
    """The worker has made the case and deleted the pending key, not yet committed: the
    webhook still sees the key (the delete is not committed), seals to it, and commits first
    (the worker has not touched the chat row yet). The case's id is the pending key's, so
    the follow-up joins the case."""
    describing()
    follow_up = message(FOLLOW_UP)
    adopted, stored = threading.Event(), threading.Event()
    from krov.aid.services import keys

    original = keys.adopt_pending_key

    def after_adopting(case, pending):
        original(case, pending)
        if threading.current_thread() is worker:
            adopted.set()
            wait(stored, "the webhook's commit")

    monkeypatch.setattr(keys, "adopt_pending_key", after_adopting)
    worker = Side(process)
    worker.start()
    wait(adopted, "the worker to take the pending key over")
    update_id = stored_follow_up(follow_up)  # here, on the test's own connection
    stored.set()
    assert worker.finish() == 2  # the description, then the follow-up (committed first)

    result = outcome(team, update_id)
    assert result["sealed"]["kind"] == "pending" and result["sealed"]["case"] == result["case"]
    assert result["status"] == Update.Status.DONE
    assert result["in_case"], result
    assert in_ukrainian(RESEND) not in result["told"]
    assert not PendingCaseKey.objects.exists()  # nothing left sealed to a key nobody adopts


# --- 4. a coordinator closes the case while an update is in flight ---------------------------


@pytest.mark.parametrize("closed_at", ["before_sealing", "after_sealing"])
def test_a_case_closed_while_a_follow_up_is_in_flight_tells_the_requester(
    quiet, team, coordinator, monkeypatch, closed_at
):
    """The webhook read the chat with its case open; a coordinator closes the case before
    the webhook seals (it then seals to a new pending key) or after (to the closed case's
    key). Either way the worker finds the case closed and tells the requester, as for a
    message that came after the close: no error, nothing parked, nothing added to a closed
    case, and the chat is ready for /start."""
    case = with_open_case()
    follow_up = message(FOLLOW_UP)
    paused, closed = threading.Event(), threading.Event()
    original = sealed_intake._seal_for_requester

    def around_sealing(chat, body, attachment):
        if threading.current_thread() is not webhook:
            return original(chat, body, attachment)
        if closed_at == "before_sealing":
            paused.set()
            wait(closed, "the coordinator's close")
            return original(chat, body, attachment)
        sealed = original(chat, body, attachment)
        paused.set()
        wait(closed, "the coordinator's close")
        return sealed

    monkeypatch.setattr(sealed_intake, "_seal_for_requester", around_sealing)
    webhook = Side(lambda: stored_follow_up(follow_up))
    webhook.start()
    wait(paused, "the webhook's read of the chat")
    aid.close_case(case, actor=coordinator, outcome=HelpRequest.Outcome.HELPED)
    closed.set()
    update_id = webhook.finish()

    sealed = sealed_part_seen[update_id]
    expected_kind = "pending" if closed_at == "before_sealing" else "case"
    assert sealed["kind"] == expected_kind
    before = len(told())
    process()
    assert Update.objects.get(update_id=update_id).status == Update.Status.DONE
    assert FOLLOW_UP not in requester_texts(team, case)
    closed_notice = in_ukrainian(
        "Your request is closed, so nobody will read this. If you need help again, "
        "write /start to send a new request."
    )
    assert told()[before:] == [closed_notice]
    chat = Chat.objects.get(key=key())
    assert chat.state == Chat.State.NEW and chat.request_id is None


# --- 5. the chat forgotten between the webhook's read and its lock ---------------------------


def test_a_chat_forgotten_between_the_read_and_the_lock_loses_no_update(quiet, team, monkeypatch):
    """The requester confirms /forget; a message of theirs is read by the webhook before the
    worker deletes the chat and sealed after. The webhook fails (no row to lock: an error,
    answered 500, which Telegram sends again); the copy Telegram sends again is stored for a
    new chat and processed, nothing parked."""
    for update in (message("/start"), press("lang:uk"), message("/forget")):
        store(update)
        process()
    store(press("forget:yes"))
    follow_up = message(FOLLOW_UP)
    read, forgotten = threading.Event(), threading.Event()
    original = sealed_intake._seal_for_requester

    def after_the_read(chat, body, attachment):
        if threading.current_thread() is webhook:
            read.set()
            wait(forgotten, "the worker's /forget")
        return original(chat, body, attachment)

    monkeypatch.setattr(sealed_intake, "_seal_for_requester", after_the_read)
    webhook = Side(lambda: intake.store(copy.deepcopy(follow_up)))
    webhook.start()
    wait(read, "the webhook's read of the chat")
    assert process() == 1
    assert not Chat.objects.filter(key=key()).exists()
    forgotten.set()
    # No row to lock: an error (500), or TryAgain (503); Telegram sends the update again.
    with pytest.raises((Chat.DoesNotExist, intake.TryAgain)):
        webhook.finish()
    assert not Update.objects.filter(update_id=follow_up["update_id"]).exists()

    monkeypatch.setattr(sealed_intake, "_seal_for_requester", original)
    assert intake.store(copy.deepcopy(follow_up))  # Telegram's retry
    process()
    assert Update.objects.get(update_id=follow_up["update_id"]).status == Update.Status.DONE
    assert Chat.objects.get(key=key()).state == Chat.State.NEW
