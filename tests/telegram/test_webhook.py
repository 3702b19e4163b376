"""POST /telegram/webhook: the secret, bad bodies, duplicates, kinds. In process through the
test client; one test over real HTTP (END_TO_END)."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krov.telegram.models import Update
from tests.telegram.conftest import END_TO_END, SECRET, fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
def test_wrong_or_missing_secret_is_403_and_stores_nothing(webhook, secret):
    status, body = webhook(fixture("message_start"), secret=secret)
    assert status == 403
    assert Update.objects.count() == 0


def test_webhook_is_closed_when_no_secret_is_configured(webhook, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert webhook(fixture("message_start"), secret="")[0] == 403


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"message": {}}', "update_id"),
        (b'{"update_id": "12"}', "update_id"),
        (b'{"update_id": true}', "update_id"),
        (b'{"update_id": -5}', "update_id"),
        (b"\xff\xfe", "not JSON"),
        (b'{"update_id": 1, "x": "' + b"a" * 300_000 + b'"}', "too large"),
    ],
)
def test_a_body_that_is_not_an_update_is_400_with_a_reason(webhook, body, reason):
    status, answer = webhook(body)
    assert status == 400
    assert reason in answer["description"]
    assert Update.objects.count() == 0


def check_stored_acknowledged_and_processed(webhook, user) -> None:
    status, answer = webhook(fixture("message_start"))
    assert (status, answer) == (200, {"ok": True})
    update = Update.objects.get(update_id=900000001)
    assert update.status == Update.Status.DONE
    assert update.payload == ""  # the raw update is dropped once processed
    assert "Language" in user.last_text()


def test_an_update_is_stored_encrypted_acknowledged_and_processed(webhook, telegram_user):
    check_stored_acknowledged_and_processed(webhook, telegram_user())


@END_TO_END
def test_an_update_over_http_is_stored_acknowledged_and_processed(live_webhook, live_telegram_user):
    """The whole wire once: Telegram's POST with the secret header to a real server, the
    update committed for real and its nudge run by a real commit, the answer out over HTTP
    to the Bot API. Every other webhook test posts in process."""
    check_stored_acknowledged_and_processed(live_webhook, live_telegram_user())


def test_a_repeated_update_id_is_acknowledged_and_not_processed_again(webhook, telegram_user):
    assert webhook(fixture("message_start"))[0] == 200
    sent = len(telegram_user().inbox())
    assert webhook(fixture("message_start")) == (200, {"ok": True})
    assert Update.objects.count() == 1
    assert len(telegram_user().inbox()) == sent


@pytest.mark.parametrize("name", ["poll", "group_message"])
def test_kinds_we_do_not_use_are_acknowledged_and_ignored(webhook, fake_api, name):
    assert webhook(fixture(name)) == (200, {"ok": True})
    sends = [m for m, _p in fake_api.calls if m.startswith("send")]
    assert sends == []


def test_get_is_not_allowed(client):
    assert client.get("/telegram/webhook").status_code == 405


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
update_like = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-10, max_value=2**60)},
    optional={
        "message": json_values,
        "callback_query": json_values,
        "edited_message": json_values,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.one_of(json_values, update_like))
def test_arbitrary_json_never_gets_a_500(webhook, body):
    status, _answer = webhook(json.dumps(body).encode())
    assert status in {200, 400}


@pytest.mark.parametrize("depth", [40, 5_000, 100_000])
def test_an_update_nested_thousands_deep_is_400(webhook, depth):
    body = b'{"update_id": 7, "message": ' + b"[" * depth + b"]" * depth + b"}"
    if len(body) > 256 * 1024:
        body = b'{"update_id": 7, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, answer = webhook(body)
    assert status == 400
    assert "nested" in answer["description"] or "too large" in answer["description"]
    assert Update.objects.count() == 0


def test_a_lone_surrogate_is_replaced_and_the_message_still_arrives(webhook, telegram_user):
    update = fixture("message_start")
    raw = json.dumps(update).replace('"/start"', '"/start \\ud800"').encode()
    assert b"\\ud800" in raw
    status, answer = webhook(raw)
    assert (status, answer) == (200, {"ok": True})
    stored = Update.objects.get(update_id=update["update_id"])
    assert stored.status == Update.Status.DONE
    assert "Language" in telegram_user().last_text()


# --- odd optional parts: the message still reaches the case ------------------------------------

_odd_ids = itertools.count(930000000)
odd_parts = st.dictionaries(
    st.sampled_from(
        ["document", "photo", "voice", "video", "location", "contact", "venue", "quote"]
        + ["entities", "reply_to_message", "forward_origin", "link_preview_options", "sticker"]
        + ["message_id", "date", "from", "reply_markup", "thumbnail", "new_chat_photo"]
    )
    | st.text(min_size=1, max_size=10),
    json_values,
    max_size=5,
).map(lambda parts: {k: v for k, v in parts.items() if k not in {"text", "chat", "caption"}})
request_texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=120
).filter(lambda text: text.strip() and not text.lstrip().startswith("/"))


@pytest.fixture
def open_case(telegram_user):
    from tests.telegram.test_dialogue import run_dialogue

    user = telegram_user()
    return user, run_dialogue(user)


def post_with_odd_parts(user, text: str, parts: dict) -> Update:
    from django.core.cache import cache

    cache.clear()  # each example is one more message: the hourly limit is not under test
    update = fixture("message_start")
    update["update_id"] = next(_odd_ids)
    message = update["message"]
    message.pop("entities")
    message.update(parts)
    message["text"] = text
    message["chat"]["id"] = user.chat_id
    assert user.post(update) == (200, {"ok": True})
    return Update.objects.get(update_id=update["update_id"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=request_texts, parts=odd_parts)
def test_a_message_with_arbitrary_optional_parts_reaches_the_open_case(open_case, text, parts):
    user, case = open_case
    stored = post_with_odd_parts(user, text, parts)
    assert (stored.status, stored.error) == (Update.Status.DONE, "")
    last = case.messages.filter(direction="in").order_by("pk").last()
    assert last is not None and last.body.startswith(text.strip())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=request_texts, parts=odd_parts)
def test_a_sealed_message_with_arbitrary_optional_parts_reaches_the_open_case(
    team, open_case, text, parts
):
    user, case = open_case
    stored = post_with_odd_parts(user, text, parts)
    assert (stored.status, stored.error) == (Update.Status.DONE, "")
    case.refresh_from_db()
    last = case.messages.filter(direction="in").order_by("pk").last()
    assert last is not None and team.read(case, "message", last.body).startswith(text.strip())


def test_with_the_cache_down_an_update_is_stored_and_acknowledged_for_the_sweep(webhook, settings):
    """Redis down: the nudge is lost, not the update; Telegram gets its 200 (a 500 would
    make it send again and again) and the worker's sweep processes the stored update."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    update = fixture("message_start")
    assert webhook(update) == (200, {"ok": True})
    stored = Update.objects.get(update_id=update["update_id"])
    assert stored.status == Update.Status.PENDING
