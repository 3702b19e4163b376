"""Files a Telegram requester sends with a sealed case: the reference is sealed, a reader's
browser opens it and asks for the file, which comes from Telegram into memory for that one
response; only the case's volunteer and coordinators get it, and bad references get a
clear answer."""

from __future__ import annotations

import copy
import itertools

import pytest

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message
from krov.aid.services import channels
from krov.core import sealing
from tests.helpers import signed_in
from tests.telegram.conftest import fixture
from tests.telegram.test_sealed import describe

pytestmark = pytest.mark.django_db

PHOTO_ID = "AgACAgIAAxkBAAIBMarker61"
PHOTO = b"\xff\xd8\xff\xe0" + b"Marker-61 a photo of a document" + b"\xff\xd9"
_ids = itertools.count(1)


def send_photo(user, file_id: str, caption: str) -> None:
    update = copy.deepcopy(fixture("message_photo"))
    update["update_id"] = 930000000 + next(_ids)
    message = update["message"]
    message["message_id"] = 500 + next(_ids)
    message["chat"]["id"] = message["from"]["id"] = user.chat_id
    message["photo"] = [{"file_id": file_id, "file_unique_id": "u1", "width": 90, "height": 67}]
    message["caption"] = caption
    status, _body = user.post(update)
    assert status == 200


@pytest.fixture
def photo_case(telegram_user, team, fake_api, make_volunteer, coordinator):
    user = telegram_user()
    case = describe(user)
    fake_api.add_file(PHOTO_ID, PHOTO)
    send_photo(user, PHOTO_ID, "the evacuation paper")
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    (message,) = [m for m in Message.objects.filter(request=case) if m.attachment_ref]
    return case, message, volunteer


def url(case: HelpRequest) -> str:
    return f"/en/aid/cases/{case.public_id}/attachment/"


def test_the_reference_is_sealed_and_the_coordinator_gets_the_photo_from_telegram(
    photo_case, team, coordinator, fake_api
):
    case, message, _volunteer = photo_case
    assert sealing.is_sealed(message.attachment_ref) and PHOTO_ID not in message.attachment_ref
    ref = team.read(case, "message.attachment", message.attachment_ref)
    assert ref == f"photo:{PHOTO_ID}"
    # The case page carries the sealed reference where the browser turns it into a button.
    page = signed_in(coordinator).get(f"/en/aid/cases/{case.public_id}/").content.decode()
    assert f'data-url="{url(case)}"' in page and PHOTO_ID not in page
    response = signed_in(coordinator).post(url(case), {"ref": ref})
    assert response.status_code == 200
    assert response.content == PHOTO and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert [m for m, _p in fake_api.calls if m == "getFile"] == ["getFile"]


def test_the_volunteer_on_the_case_gets_it_and_others_do_not(photo_case, make_volunteer, personas):
    case, _message, volunteer = photo_case
    ref = f"photo:{PHOTO_ID}"
    assert signed_in(volunteer.user).post(url(case), {"ref": ref}).content == PHOTO
    other = make_volunteer("Grom")
    assert signed_in(other.user).post(url(case), {"ref": ref}).status_code == 404
    member = personas["member"].user
    assert signed_in(member).post(url(case), {"ref": ref}).status_code == 403


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("", "not a file a requester sent"),
        ("sticker:abc", "not a file a requester sent"),
        ("photo:", "not a file a requester sent"),
        ("photo:" + "x" * 300, "not a file a requester sent"),
        ("photo:Бердянськ", "not a file a requester sent"),
        ("photo:AgACAgIAAxkBAAIBunknown", "no longer has this file"),
    ],
)
def test_a_bad_reference_gets_a_clear_answer(photo_case, coordinator, ref, says):
    case, _message, _volunteer = photo_case
    response = signed_in(coordinator).post(url(case), {"ref": ref})
    assert response.status_code == 409 and says in response.json()["error"]


def test_telegram_failing_is_told_not_a_500(photo_case, coordinator, fake_api):
    case, _message, _volunteer = photo_case
    fake_api.fail_next(500, method="getFile")
    response = signed_in(coordinator).post(url(case), {"ref": f"photo:{PHOTO_ID}"})
    assert response.status_code == 409 and "try again" in response.json()["error"]


def test_fetching_files_is_counted_per_person(photo_case, coordinator, monkeypatch):
    case, _message, _volunteer = photo_case
    monkeypatch.setattr(channels, "ATTACHMENT_VIEWS_PER_HOUR", 2)
    desk = signed_in(coordinator)
    statuses = [desk.post(url(case), {"ref": f"photo:{PHOTO_ID}"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 409]


def test_a_web_case_has_no_files(submit, coordinator):
    case, _token = submit("A web request")
    response = signed_in(coordinator).post(url(case), {"ref": f"photo:{PHOTO_ID}"})
    assert response.status_code == 409 and "no files" in response.json()["error"]


def photos_in(user) -> list[tuple[str, str]]:
    return [
        (m["photo"][-1]["file_id"], m.get("caption", "")) for m in user.inbox() if m.get("photo")
    ]


def test_a_volunteer_reading_on_telegram_gets_the_requesters_photo_by_reference(
    telegram_user, team, fake_api, make_volunteer, coordinator
):
    """The file's reference is sealed to the workers at the webhook, like the words, and
    the worker sends the photo on by that reference: nothing is downloaded, and no row
    holds the reference under a key the server has."""
    from tests.telegram.test_outbox_keys import raw_rows
    from tests.telegram.test_volunteers import linked_volunteer

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    user = telegram_user()
    case = describe(user)
    aid.assign(case, volunteer, actor=coordinator)
    send_photo(user, PHOTO_ID, "the evacuation paper")
    assert photos_in(helper) == [(PHOTO_ID, case.code)]
    assert any("the evacuation paper" in (m.get("text") or "") for m in helper.inbox())
    assert PHOTO_ID not in raw_rows()
    assert not [m for m, _p in fake_api.calls if m == "getFile"]


def test_a_photo_whose_worker_stopped_is_sent_once_a_reader_hands_over_the_case_key(
    telegram_user, team, fake_api, make_volunteer, coordinator, monkeypatch
):
    from krov.telegram import outbox, outbox_keys, tasks
    from krov.telegram.models import Outbound, OutboxKey
    from tests.telegram.test_outbox_keys import hand_case_key
    from tests.telegram.test_volunteers import linked_volunteer

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    user = telegram_user()
    case = describe(user)
    aid.assign(case, volunteer, actor=coordinator)
    monkeypatch.setattr(tasks, "send_outbox", lambda: 0)  # held back: the worker is slow
    send_photo(user, PHOTO_ID, "the evacuation paper")
    photo_row = Outbound.objects.get(method=outbox_keys.ATTACHMENT_METHOD)
    # The worker stops before sending; a new one starts.
    Outbound.objects.filter(status=Outbound.Status.QUEUED, aid_message__isnull=False).update(
        status=Outbound.Status.WAITING, sealed={}
    )
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    outbox_keys.hold()
    desk = signed_in(coordinator)
    waiting = desk.get("/en/aid/keys/relays/").json()["waiting"]
    item = next(i for i in waiting if i["message"] == str(photo_row.aid_message.public_id))
    assert desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item)).status_code == 200
    outbox.send_due()
    assert photos_in(helper) == [(PHOTO_ID, case.code)]
    photo_row.refresh_from_db()
    assert photo_row.status == Outbound.Status.SENT and photo_row.sealed == {}
