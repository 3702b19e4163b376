"""krov.events.services: the rules, through the services."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from krov.events import services
from krov.events.models import Event, EventText, Rsvp, Slot

pytestmark = pytest.mark.django_db


def test_serbian_cyrillic_yields_latin_and_back(make_event, organiser):
    event = make_event("Отворени микрофон у Кваки")
    latin = EventText.objects.get(event=event, language="sr-latn")
    assert latin.title == "Otvoreni mikrofon u Kvaki" and latin.derived
    services.set_text(event, actor=organiser, language="sr-latn", title="Veče poezije")
    assert EventText.objects.get(event=event, language="sr").title == "Вече поезије"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hours": -1}, "end must be after"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
    ],
)
def test_bad_times_and_capacities_are_refused(organiser, venue, change, message):
    starts = timezone.now() + timedelta(days=1)
    with pytest.raises(services.EventError, match=message):
        services.create_event(
            actor=organiser,
            title="X",
            language="en",
            starts_at=starts,
            ends_at=starts + timedelta(hours=change.get("hours", 2)),
            capacity=change.get("capacity"),
        )
    assert not Event.objects.exists()


def test_only_organisers_create_and_only_the_events_organisers_manage(personas, make_event):
    with pytest.raises(services.EventError):
        services.create_event(
            actor=personas["member"].user,
            title="X",
            language="en",
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1),
        )
    event = make_event()
    assert not services.can_manage(personas["editor"].user, event)
    with pytest.raises(services.EventError):
        services.publish(event, actor=personas["coordinator"].user)


def confirmed(event, *, name: str, contact: str):
    """An RSVP by email whose mailed link was opened and confirmed."""
    result = services.rsvp(event, name=name, contact=contact)
    result.rsvp = services.confirm_rsvp(result.rsvp)
    return result


def test_full_event_puts_people_on_the_waiting_list_and_promotes_on_cancel(
    make_event, django_capture_on_commit_callbacks
):
    event = make_event(capacity=2, kind=Event.Kind.LECTURE)
    first = confirmed(event, name="Ana", contact="ana@example.org")
    services.rsvp(event, name="Boris")
    waiting = confirmed(event, name="Vera", contact="vera@example.org")
    assert waiting.rsvp.status == Rsvp.Status.WAITING
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel_rsvp(first.rsvp)
    assert promoted.pk == waiting.rsvp.pk
    assert Rsvp.objects.get(pk=waiting.rsvp.pk).status == Rsvp.Status.GOING
    event.refresh_from_db()
    assert event.going_count == 2
    assert [m.to for m in mail.outbox] == [["vera@example.org"]]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("cancelled", "cancelled"),
        ("past", "over"),
        ("draft", "not open"),
        ("count", "takes no names"),
    ],
)
def test_rsvp_to_an_event_that_cannot_take_it_is_refused(make_event, organiser, setup, message):
    if setup == "draft":
        event = make_event(publish=False)
    elif setup == "count":
        event = make_event(rsvp_mode=Event.RSVP.COUNT, kind=Event.Kind.PROTEST)
    else:
        event = make_event()
    if setup == "cancelled":
        services.cancel(event, actor=organiser)
    if setup == "past":
        with (
            time_machine.travel(event.ends_at + timedelta(minutes=1)),
            pytest.raises(services.EventError, match=message),
        ):
            services.rsvp(event, name="Ana")
        return
    with pytest.raises(services.EventError, match=message):
        services.rsvp(event, name="Ana")
    assert not Rsvp.objects.exists()


def test_the_same_address_twice_gets_the_same_answer_and_one_rsvp(
    make_event, django_capture_on_commit_callbacks
):
    """Nobody learns whether an address is on the list: both answers are "check your mail".
    The owner gets the link once; a second request tells them, without a link, and the link
    they have keeps working."""
    event = make_event()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.rsvp(event, name="Ana", contact="Ana@Example.org")
    with django_capture_on_commit_callbacks(execute=True):
        second = services.rsvp(event, name="Someone", contact="ana@example.org")
    assert first.token is None and second.token is None
    assert Rsvp.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["Ana@Example.org"], ["Ana@Example.org"]]
    link = re.search(r"https?://\S+/events/rsvp/\S+/", mail.outbox[0].body).group(0)
    assert "/events/rsvp/" not in mail.outbox[1].body
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert services.rsvp_for_token(token) == first.rsvp


def test_an_email_rsvp_holds_no_place_and_moves_no_count_until_confirmed(make_event):
    """Watching "N people are coming" while typing someone's address must not tell whether
    the address was on the list: a new one moves nothing either, until its link is used."""
    event = make_event(capacity=1, kind=Event.Kind.LECTURE)
    pending = services.rsvp(event, name="Ana", contact="ana@example.org")
    services.rsvp(event, name="Other", contact="ana@example.org")  # the same address again
    event.refresh_from_db()
    assert event.going_count == 0 and pending.rsvp.status == Rsvp.Status.UNCONFIRMED
    services.rsvp(event, name="Boris")  # takes the only seat meanwhile
    assert services.confirm_rsvp(pending.rsvp).status == Rsvp.Status.WAITING
    assert services.confirm_rsvp(pending.rsvp).status == Rsvp.Status.WAITING  # once only
    event.refresh_from_db()
    assert event.going_count == 1


def test_a_name_alone_never_reveals_that_someone_else_used_it(make_event):
    event = make_event()
    services.rsvp(event, name="Ana")
    again = services.rsvp(event, name="Ana")  # another Ana, or the same: no 409 either way
    assert again.token
    assert Rsvp.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_people_for_the_last_seat_exactly_one_gets_it(make_event):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    event = make_event(capacity=1, kind=Event.Kind.LECTURE)
    barrier = threading.Barrier(2)
    results = []

    def take(name):
        barrier.wait()
        results.append(services.rsvp(event, name=name).rsvp.status)
        connection.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in ("Ana", "Boris")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [Rsvp.Status.GOING, Rsvp.Status.WAITING]
    event.refresh_from_db()
    assert event.going_count == 1


def test_count_only_mode_counts_without_names_once_per_client(make_event):
    event = make_event(rsvp_mode=Event.RSVP.COUNT, kind=Event.Kind.PROTEST)
    count = services.count_me_in
    assert count(event, client_address="10.0.0.1", already_counted=False) == 1
    assert count(event, client_address="10.0.0.1", already_counted=False) == 1
    assert count(event, client_address="10.0.0.2", already_counted=False) == 2
    assert count(event, client_address="10.0.0.3", already_counted=True) == 2  # the cookie
    assert not Rsvp.objects.exists()


def test_count_only_keys_hold_no_address_and_live_an_hour_at_most(make_event):
    """A seized cache must not say who said "I'm coming" to a protest."""
    import time

    from django.core.cache import cache

    event = make_event(rsvp_mode=Event.RSVP.COUNT, kind=Event.Kind.PROTEST)
    cache.clear()
    services.count_me_in(event, client_address="198.51.100.23", already_counted=False)
    keys = list(cache._cache)  # the local-memory backend the tests run on
    assert keys
    assert not any("198.51.100.23" in key for key in keys)
    assert all(cache._expire_info[key] - time.time() <= 3601 for key in keys)


def test_check_in_by_code_twice_says_when_the_first_was(make_event, organiser):
    event = make_event()
    result = services.rsvp(event, name="Ana")
    code = services.checkin_code(result.rsvp)
    first = services.check_in(event, actor=organiser, code=code)
    second = services.check_in(event, actor=organiser, code=code)
    assert first.first and not second.first and second.at == first.at


@pytest.mark.parametrize("code", ["", "garbage", "a:b:c", "x" * 500])
def test_invalid_codes_are_refused(make_event, organiser, code):
    event = make_event()
    # Nothing typed is asked for; anything else is told what a code looks like.
    with pytest.raises(services.EventError, match="not a valid code|Type the attendee's code"):
        services.check_in(event, actor=organiser, code=code)


def test_a_code_for_another_event_is_refused(make_event, organiser):
    event = make_event()
    other = make_event("Друго вече")
    code = services.checkin_code(services.rsvp(other, name="Ana").rsvp)
    with pytest.raises(services.EventError, match="another event"):
        services.check_in(event, actor=organiser, code=code)


def test_door_counter_never_goes_below_zero(make_event, organiser):
    event = make_event(rsvp_mode=Event.RSVP.NONE)
    assert services.door(event, actor=organiser, delta=-1) == 0
    assert services.door(event, actor=organiser, delta=1) == 1
    assert services.door(event, actor=organiser, delta=1) == 2
    assert services.door(event, actor=organiser, delta=-1) == 1


def test_open_mic_queue_rules(make_event, organiser):
    event = make_event()
    services.update_event(event, actor=organiser, queue_max_slots=3)
    a = services.sign_up(event, stage_name="Lira", act="songs", person_key="p1")
    with pytest.raises(services.EventError, match="already have a slot"):
        services.sign_up(event, stage_name="Lira again", person_key="p1")
    services.sign_up(event, stage_name="Bard", person_key="p2")
    services.sign_up(event, stage_name="Extra", actor=organiser)  # organisers add freely
    with pytest.raises(services.EventError, match="All slots"):
        services.sign_up(event, stage_name="Late", person_key="p3")
    services.set_slot_status(a, actor=organiser, status=Slot.Status.ON_STAGE)
    state = services.live_state(event)
    assert state["on_stage"].stage_name == "Lira"
    assert [s.stage_name for s in state["next"]] == ["Bard", "Extra"]
    extra = Slot.objects.get(stage_name="Extra")
    services.move_slot(extra, actor=organiser, up=True)
    assert [s.stage_name for s in services.live_state(event)["next"]] == ["Extra", "Bard"]
    services.set_slot_status(extra, actor=organiser, status=Slot.Status.ON_STAGE)
    assert Slot.objects.get(pk=a.pk).status == Slot.Status.DONE


def test_sign_up_after_the_queue_closed_is_refused(make_event, organiser):
    event = make_event()
    services.update_event(
        event, actor=organiser, queue_closes_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(services.EventError, match="closed"):
        services.sign_up(event, stage_name="Late", person_key="p9")


def test_weekly_series_copies_texts_and_dates(make_event, organiser):
    event = make_event()
    copies = services.repeat(event, actor=organiser, every="weekly", count=3)
    assert [c.starts_at - event.starts_at for c in copies] == [
        timedelta(weeks=n) for n in (1, 2, 3)
    ]
    assert all(c.texts.count() == event.texts.count() for c in copies)
    assert len({c.slug for c in copies} | {event.slug}) == 4


def test_repeating_a_series_twice_makes_new_dates_not_an_error(make_event, organiser):
    event = make_event()
    first = services.repeat(event, actor=organiser, every="weekly", count=2)
    again = services.repeat(event, actor=organiser, every="weekly", count=2)  # a 500 before
    slugs = [e.slug for e in [event, *first, *again]]
    assert len(set(slugs)) == 5
    date = f"{timezone.localtime(first[0].starts_at):%Y-%m-%d}"
    assert first[0].slug.endswith(date) and date in again[0].slug
    assert all(not slug.startswith(f"{date}") for slug in slugs)


def test_monthly_series_keeps_the_day_clamped_to_the_month(organiser, venue):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    starts = datetime(2027, 1, 31, 19, 0, tzinfo=ZoneInfo("Europe/Belgrade"))
    event = services.create_event(
        actor=organiser,
        title="Monthly",
        language="en",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    feb, mar = services.repeat(event, actor=organiser, every="monthly", count=2)
    assert (
        timezone.localtime(feb.starts_at).day == 28 and timezone.localtime(mar.starts_at).day == 31
    )


def test_attendee_names_are_purged_after_the_event_counts_stay(make_event, settings):
    settings.KROV_EVENT_ATTENDEE_DAYS = 14
    event = make_event()
    confirmed(event, name="Ana", contact="ana@example.org")
    services.rsvp(event, name="Boris")
    with time_machine.travel(event.ends_at + timedelta(days=13)):
        assert services.purge_attendees() == 0
    with time_machine.travel(event.ends_at + timedelta(days=15)):
        assert services.purge_attendees() == 1
    assert {(r.name, r.contact) for r in Rsvp.objects.all()} == {("", "")}
    event.refresh_from_db()
    assert event.going_count == 2


def test_cancelling_tells_those_who_left_an_email_once_the_undo_window_has_passed(
    make_event, organiser, django_capture_on_commit_callbacks
):
    event = make_event()
    services.rsvp(event, name="Ana", contact="ana@example.org")
    services.rsvp(event, name="Boris")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.cancel(event, actor=organiser, notice="Rain") == 1
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED  # pages and calendars show it at once
    assert mail.outbox == []
    assert services.tell_cancelled(now=timezone.now() + timedelta(minutes=4)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tell_cancelled(now=timezone.now() + timedelta(minutes=6)) == 1
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert services.tell_cancelled(now=timezone.now() + timedelta(minutes=7)) == 0  # once
    assert services.cancel(event, actor=organiser) == 0  # cancelled already: nobody again


def test_an_undone_cancellation_tells_nobody_and_raises_the_calendar_sequence(
    make_event, organiser
):
    event = make_event()
    services.rsvp(event, name="Ana", contact="ana@example.org")
    sequence = Event.objects.get(pk=event.pk).sequence
    services.cancel(event, actor=organiser, notice="Rain")
    message = services.undo_cancel({"event": event.pk, "status": "published"}, actor=organiser)
    assert "nobody was told" in message
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and event.cancel_notice == ""
    assert event.sequence == sequence + 2
    mail.outbox.clear()
    assert services.tell_cancelled(now=timezone.now() + timedelta(minutes=6)) == 0
    assert mail.outbox == []


def test_a_cancellation_cannot_be_undone_once_told_or_by_someone_else(
    make_event, organiser, personas
):
    from krov.core.undo import UndoError

    event = make_event()
    services.rsvp(event, name="Ana", contact="ana@example.org")
    services.cancel(event, actor=organiser)
    with pytest.raises(UndoError, match="organisers"):
        services.undo_cancel({"event": event.pk}, actor=personas["member"].user)
    services.tell_cancelled(now=timezone.now() + timedelta(minutes=6))
    with pytest.raises(UndoError, match="already told"):
        services.undo_cancel({"event": event.pk}, actor=organiser)
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED


def _jpeg_with_gps(width=3000, height=2000) -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (44.0, 49.0, 0.0), 3: "E", 4: (20.0, 27.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_cover_pictures_are_resized_and_lose_their_exif_and_location(make_event, organiser):
    import io

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    event = make_event()
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get(0x8825)  # the upload does carry a GPS position
    name = services.set_cover(
        event, actor=organiser, upload=SimpleUploadedFile("c.jpg", original, "image/jpeg")
    )
    with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
        assert image.size == (1500, 1000)
        assert not image.getexif() and "exif" not in image.info


@pytest.mark.parametrize("content", [b"not a picture", b"\x89PNG\r\n\x1a\n" + b"0" * 20])
def test_a_file_that_is_not_a_picture_is_refused(make_event, organiser, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    event = make_event()
    with pytest.raises(services.EventError, match="not a picture"):
        services.set_cover(
            event, actor=organiser, upload=SimpleUploadedFile("x.jpg", content, "image/jpeg")
        )
    event.refresh_from_db()
    assert event.cover == ""


def test_reminders_go_out_once_about_a_day_before(make_event, django_capture_on_commit_callbacks):
    event = make_event(days=2)
    confirmed(event, name="Ana", contact="ana@example.org")
    services.rsvp(event, name="Carla", contact="carla@example.org")  # never confirmed
    services.rsvp(event, name="Boris")
    mail.outbox.clear()
    with time_machine.travel(event.starts_at - timedelta(hours=30)):
        assert services.send_reminders() == 0
    with (
        time_machine.travel(event.starts_at - timedelta(hours=24)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.send_reminders() == 1
        assert services.send_reminders() == 0
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]


def test_announcing_queues_an_escaped_post_for_the_channel(make_event, organiser, settings):
    from krov.telegram.models import Outbound

    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    event = make_event("Вече <песама> & поезије")
    services.announce(event, actor=organiser, url="https://krov.example.org/sr/events/x/")
    (post,) = Outbound.objects.filter(channel="@krov_news")
    import json

    text = json.loads(post.params)["text"]
    assert "<b>Вече &lt;песама&gt; &amp; поезије</b>" in text
    settings.TELEGRAM_CHANNEL_ID = ""
    with pytest.raises(services.EventError, match="No Telegram channel"):
        services.announce(event, actor=organiser, url="https://x/")


def test_attendee_mails_queue_only_ids_and_are_written_in_the_attendees_language(
    make_event, organiser, django_capture_on_commit_callbacks
):
    from unittest import mock

    from django.utils import translation

    from krov.events import tasks

    event = make_event()
    with translation.override("uk"):
        services.rsvp(event, name="Ana", contact="ana@example.org")
    with (
        mock.patch.object(tasks, "email_attendee") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.cancel(event, actor=organiser, notice="Дощ, переносимо")
        assert queued.call_args_list == []  # not before the undo window has passed
        services.tell_cancelled(now=timezone.now() + timedelta(minutes=6))
    [call] = queued.call_args_list
    assert all(isinstance(arg, int | str) for arg in call.args)
    assert "ana@example.org" not in repr(call) and "Дощ" not in repr(call)
    mail.outbox.clear()
    with translation.override("en"):  # the organiser's language must not leak into the mail
        tasks.email_attendee.call_local(*call.args)
    [sent] = mail.outbox
    assert sent.to == ["ana@example.org"]
    assert "Дощ, переносимо" in sent.body
    assert sent.subject.startswith("Скасовано")


def test_an_attendee_with_a_krov_account_is_written_to_in_the_language_of_their_settings(
    make_event, organiser, personas
):
    """They RSVPed from a Ukrainian page, but chose German in their settings: German."""
    from django.utils import translation

    from krov.events import tasks

    member = personas["member"].user
    type(member).objects.filter(pk=member.pk).update(language="de")
    event = make_event()
    with translation.override("uk"):
        rsvp = services.rsvp(event, name="Ana", contact=member.email.upper()).rsvp
    mail.outbox.clear()
    tasks.email_attendee.call_local(rsvp.pk, "link")
    [sent] = mail.outbox
    with translation.override("de"):
        expected = translation.gettext("Your place: %(title)s") % {"title": ""}
    assert sent.subject.startswith(expected.strip()) and not sent.subject.startswith("Your")
