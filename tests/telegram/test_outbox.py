"""The outbound queue against the fake Bot API: limits, 429, 5xx, hangs, 403, crashes."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message
from krov.telegram import client, outbox, services
from krov.telegram.models import Chat, Outbound

pytestmark = pytest.mark.django_db


class FakeClock:
    """Monotonic time that moves only when the sender sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def sender_time(monkeypatch):
    """Virtual time for the sender that runs on commit (the nudge), moved only by its own
    waits: its 0.2 s polls for a row due within two seconds pass at once, not in two real
    seconds. The wall clock stands still otherwise (time-machine), so waits measure exactly."""
    clock = FakeClock()
    with time_machine.travel(timezone.now(), tick=False) as traveller:

        def sleep(seconds: float) -> None:
            clock.sleep(seconds)
            traveller.shift(timedelta(seconds=seconds))

        # tasks.send_outbox calls outbox.send_due(); a test may still pass its own clock.
        monkeypatch.setattr(outbox, "send_due", partial(outbox.send_due, clock=clock, sleep=sleep))
        yield clock


def queue_messages(count: int, *, same_chat: bool = False) -> list[Outbound]:
    rows = []
    for index in range(count):
        chat = services.get_or_create_chat(600000000 + (0 if same_chat else index))
        rows.append(outbox.enqueue("send_message", {"text": f"m{index}"}, chat=chat))
    return rows


def test_queued_rows_are_sent_and_record_the_telegram_message_id(fake_api):
    (row,) = queue_messages(1)  # immediate mode: the nudge sends on commit
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.telegram_message_id
    assert row.params == "{}"  # the text is dropped once sent
    assert fake_api.sent_to(600000000)[0]["text"] == "m0"


def test_429_waits_retry_after_then_succeeds(fake_api):
    fake_api.fail_next(429, retry_after=30, method="sendMessage")
    (row,) = queue_messages(1)
    row.refresh_from_db()
    assert row.status == Outbound.Status.QUEUED and "rate" in row.error
    assert timedelta(seconds=28) < row.next_try_at - timezone.now() <= timedelta(seconds=30)
    assert outbox.send_due() == 0  # not yet
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert outbox.send_due() == 1
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.attempts == 2


def test_5xx_backs_off_exponentially_and_gives_up_eventually(fake_api, sender_time):
    fake_api.fail_next(500, method="sendMessage", count=20)
    (row,) = queue_messages(1)
    waits = []
    for _attempt in range(outbox.MAX_ATTEMPTS + 1):
        row.refresh_from_db()
        if row.status != Outbound.Status.QUEUED:
            break
        waits.append(row.next_try_at - timezone.now())
        with time_machine.travel(row.next_try_at + timedelta(seconds=1)):
            outbox.send_due()
    row.refresh_from_db()
    assert row.status == Outbound.Status.FAILED and "gave up" in row.error
    assert waits[1] > waits[0] and waits[2] > waits[1]


def test_a_hanging_api_times_out_and_the_row_is_sent_on_the_retry(fake_api, settings, sender_time):
    settings.TELEGRAM_BOT_TOKEN = ""  # no nudge sending: drive the sender by hand
    (row,) = queue_messages(1)
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    fake_api.fail_next(200, hang=2, method="sendMessage")
    # The call hangs longer than the client waits: the attempt times out, the row stays.
    outbox.send_due(client_factory=lambda: client.Client(timeout=0.5), budget_seconds=1)
    row.refresh_from_db()
    assert row.status == Outbound.Status.QUEUED and row.attempts == 1
    assert row.next_try_at > timezone.now()
    # When it is due again, the next attempt goes through.
    with time_machine.travel(row.next_try_at + timedelta(seconds=1)):
        outbox.send_due(client_factory=lambda: client.Client(timeout=1))
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.attempts == 2


def test_a_row_left_sending_by_a_crashed_worker_is_sent_after_restart(fake_api, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    (row,) = queue_messages(1)
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    # The worker claimed it and died mid-send: status "sending", lease still running.
    Outbound.objects.filter(pk=row.pk).update(
        status=Outbound.Status.SENDING,
        attempts=1,
        next_try_at=timezone.now() + timedelta(seconds=60),
    )
    assert outbox.send_due() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        from krov.telegram import tasks

        tasks.sweep()  # the periodic sweep on restart
    row.refresh_from_db()
    assert row.status == Outbound.Status.SENT and row.attempts == 2


def test_no_more_than_thirty_calls_in_any_second(fake_api, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    queue_messages(75)
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    clock = FakeClock()
    stamps: list[float] = []

    class Recording(client.Client):
        def call(self, method, params):
            stamps.append(clock())
            return super().call(method, params)

    sent = outbox.send_due(
        clock=clock, sleep=clock.sleep, client_factory=Recording, budget_seconds=60
    )
    assert sent == 75
    for index in range(len(stamps) - outbox.GLOBAL_PER_SECOND):
        assert stamps[index + outbox.GLOBAL_PER_SECOND] - stamps[index] >= 1.0


def test_one_message_a_second_per_chat(fake_api, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    queue_messages(2, same_chat=True)
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    settings.KROV_TELEGRAM_CHAT_SPACING_MS = 1000
    clock = FakeClock()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert outbox.send_due(clock=clock, sleep=clock.sleep, budget_seconds=5) == 1
        traveller.shift(timedelta(seconds=1.1))
        assert outbox.send_due(clock=clock, sleep=clock.sleep, budget_seconds=5) == 1


def test_a_blocked_bot_marks_the_message_failed_and_tells_the_volunteer(
    fake_api, telegram_user, make_volunteer, coordinator
):
    user = telegram_user()
    user.say("/start")
    user.press("lang:uk")
    user.press("cat:driving")
    user.say("Допоможіть")
    case = HelpRequest.objects.get()
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    fake_api.fail_next(403, method="sendMessage")
    mail.outbox.clear()
    message = aid.post_reply(case, actor=volunteer.user, body="Ви тут?")
    assert Message.objects.get(pk=message.pk).delivery == Message.Delivery.FAILED
    assert Chat.objects.get(key=services.chat_key(user.chat_id)).blocked
    assert any(m.to == [volunteer.user.email] for m in mail.outbox)


def test_channel_posts_are_escaped_html(fake_api, settings):
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    services.post_to_channel(
        title="Open mic <Friday> & friends",
        text="Bring <script>alert(1)</script> songs",
        url="https://krov.example.org/en/events/open-mic/?a=1&b=2",
    )
    (method, params) = [c for c in fake_api.calls if c[0] == "sendMessage"][-1]
    assert params["parse_mode"] == "HTML" and params["chat_id"] == "@krov_news"
    assert "<b>Open mic &lt;Friday&gt; &amp; friends</b>" in params["text"]
    assert "<script>" not in params["text"]
    assert 'href="https://krov.example.org/en/events/open-mic/?a=1&amp;b=2"' in params["text"]


def test_no_channel_configured_posts_nothing(fake_api, settings):
    settings.TELEGRAM_CHANNEL_ID = ""
    assert services.post_to_channel(title="x") is None


def test_telegram_webhook_command_registers_and_shows_the_webhook(fake_api, capsys):
    from django.core.management import call_command

    call_command("telegram-webhook", "https://krov.example.org/telegram/webhook")
    out = capsys.readouterr().out
    assert "url: https://krov.example.org/telegram/webhook" in out
    assert "allowed updates: message, callback_query" in out
    set_call = [p for m, p in fake_api.calls if m == "setWebhook"][-1]
    assert set_call["secret_token"] == "webhook-secret-for-tests"
    assert set_call["max_connections"] == 40
    names = [p for m, p in fake_api.calls if m == "setMyName"]
    assert names == [{"name": "Roof helper"}]  # neutral, configurable


def test_telegram_webhook_command_refuses_without_a_secret(fake_api, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.TELEGRAM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("telegram-webhook", "https://krov.example.org/telegram/webhook")
