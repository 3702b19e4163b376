"""The lenient reading of a stored update (krov.telegram.parser): whatever Telegram (or an
older client, or a future Bot API) puts in a message's optional parts, the message and its
text come through; only an update without its essentials is unusable."""

from __future__ import annotations

import contextlib
import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Update as TelegramUpdate

from krov.telegram import parser
from tests.telegram.conftest import FIXTURES, fixture

ODD = sorted(path.stem for path in (FIXTURES / "odd").glob("*.json"))
REAL = ["message_start", "message_photo", "callback_language", "group_message"]


def strict(raw: dict):
    """python-telegram-bot's own reading, which the parser replaces."""
    return TelegramUpdate.de_json(copy.deepcopy(raw), None)


@pytest.mark.parametrize("name", REAL)
def test_well_formed_updates_read_as_the_library_reads_them(name):
    raw = fixture(name)
    lenient, library = parser.parse(raw), strict(raw)
    assert lenient.effective_chat.id == library.effective_chat.id
    assert lenient.effective_chat.type == library.effective_chat.type
    assert lenient.effective_user.id == library.effective_user.id
    if library.message is not None:
        assert lenient.message.text == library.message.text
        assert lenient.message.caption == library.message.caption
        assert [p.file_id for p in lenient.message.photo] == [
            p.file_id for p in library.message.photo
        ]
    if library.callback_query is not None:
        assert lenient.callback_query.data == library.callback_query.data
        assert lenient.callback_query.id == library.callback_query.id


@pytest.mark.parametrize("name", ODD)
def test_odd_updates_the_library_refuses_are_read(name):
    raw = fixture(f"odd/{name}")
    if name not in {"location_live"}:  # shapes the library itself refuses
        with pytest.raises((TypeError, KeyError, AttributeError, ValueError)):
            strict(raw)
    update = parser.parse(raw)
    assert update.effective_chat.id == 555000111
    if "message" in raw:
        message = update.message
        assert message.text == raw["message"].get("text")
        assert message.caption == raw["message"].get("caption")
    else:
        assert update.callback_query.data == raw["callback_query"]["data"]


def test_what_the_dialogue_reads_of_odd_parts_is_kept():
    document = parser.parse(fixture("odd/document_empty_thumbnail")).message.document
    assert document.file_id == "BQACAgIAAxkBAAIBdocument" and document.thumbnail is None
    older = parser.parse(fixture("odd/document_older_client")).message.document
    assert older.file_id == "BQADAgAEBQACwmeJSHVa-olderclient" and older.file_unique_id == ""
    video = parser.parse(fixture("odd/video_forwarded_odd_origin")).message
    assert video.video.file_id == "BAACAgIAAxkBAAMCZCh-video" and video.forward_origin is None
    text = parser.parse(fixture("odd/text_odd_parts")).message
    assert text.reply_to_message.message_id == 1001
    assert text.reply_to_message.chat.id == 555000111  # a reply is in its own chat
    assert text.from_user.language_code == "uk" and text.entities == ()
    location = parser.parse(fixture("odd/location_live")).message.location
    assert (location.latitude, location.longitude) == (47.8388, 35.1396)
    contact = parser.parse(fixture("odd/contact_without_name")).message.contact
    assert contact.phone_number == "+380501234567" and contact.first_name == ""


@pytest.mark.parametrize(
    ("raw", "part"),
    [
        ({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "hi"}}, "chat"),
        ({"update_id": 1, "message": {"chat": {"id": "5", "type": "private"}}}, "chat"),
        ({"update_id": 1, "message": "hello"}, "chat"),
        ({"update_id": 1, "callback_query": {"from": {"id": 5}, "data": "x"}}, "id"),
        ({"update_id": 1, "callback_query": {"id": "q", "from": {"first_name": "A"}}}, "sender"),
        ({"update_id": "1"}, "update_id"),
    ],
)
def test_an_update_without_its_essentials_is_unusable_and_says_which_part(raw, part):
    with pytest.raises(parser.Unusable) as caught:
        parser.parse(raw)
    assert part in str(caught.value)


def test_the_unusable_reason_never_holds_content():
    raw = {"update_id": 1, "message": {"text": "Маркер-90 secret", "chat": "Маркер-90"}}
    with pytest.raises(parser.Unusable) as caught:
        parser.parse(raw)
    assert "Маркер" not in str(caught.value)


# --- whatever the optional parts hold --------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
# Every optional part the parser knows, and any other key.
OPTIONAL = sorted(set(parser.MESSAGE) - {"message_id", "date", "chat", "text", "caption"})
keys = st.sampled_from(OPTIONAL) | st.text(min_size=1, max_size=12)
odd_parts = st.dictionaries(keys, json_values, max_size=6)
texts = st.text(min_size=1, max_size=200)


def private_message(text: str) -> dict:
    update = fixture("message_start")
    update["message"]["text"] = text
    return update


@settings(max_examples=300, deadline=None)
@given(text=texts, parts=odd_parts, sender=json_values, chat_extra=odd_parts)
def test_arbitrary_optional_parts_never_raise_and_the_text_survives(
    text, parts, sender, chat_extra
):
    update = private_message(text)
    message = update["message"]
    message.update({k: v for k, v in parts.items() if k not in {"text", "chat"}})
    message["from"] = sender
    message["chat"].update({k: v for k, v in chat_extra.items() if k not in {"id", "type"}})
    parsed = parser.parse(update)
    assert parsed.message.text == text
    assert parsed.effective_chat.id == 555000111 and parsed.effective_chat.type == "private"


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(parser.MEDIA)),
    media=odd_parts,
    file_id=st.text(min_size=1, max_size=40),
    caption=texts,
)
def test_a_file_with_odd_parts_keeps_its_id_and_caption(kind, media, file_id, caption):
    update = private_message("")
    message = update["message"]
    del message["text"]
    message["caption"] = caption
    message[kind] = {**media, "file_id": file_id}
    parsed = parser.parse(update).message
    assert getattr(parsed, kind).file_id == file_id
    assert parsed.caption == caption


@settings(max_examples=200, deadline=None)
@given(data=json_values, parts=odd_parts, button=st.text(max_size=64))
def test_a_button_press_with_odd_parts_keeps_its_data(data, parts, button):
    update = fixture("callback_language")
    query = update["callback_query"]
    query.update({k: v for k, v in parts.items() if k not in {"id", "from", "data"}})
    query["message"] = data if not isinstance(data, dict) else {**query["message"], **data}
    query["data"] = button
    parsed = parser.parse(update)
    assert parsed.callback_query.data == button
    assert parsed.callback_query.from_user.id == 555000111


@settings(max_examples=300, deadline=None)
@given(message=json_values, callback=json_values)
def test_anything_at_all_is_read_or_unusable_never_another_error(message, callback):
    for raw in ({"update_id": 5, "message": message}, {"update_id": 5, "callback_query": callback}):
        with contextlib.suppress(parser.Unusable):
            parser.parse(raw)
