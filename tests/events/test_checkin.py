"""Check-in at the door: a short code, shown in full on the ticket, accepted however it is
typed; clear answers (never a 500) for a wrong one; the door counter every phone polls."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import Client

from krov.events import services
from krov.events.models import Rsvp
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_every_rsvp_gets_a_short_code_without_look_alike_characters(make_event):
    event = make_event()
    codes = [services.rsvp(event, name=f"Guest {n}").rsvp.checkin_code for n in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        assert len(code) == 8
        assert not set(code) & set("0ODQ1IL2Z5S8B")


def test_ticket_page_shows_the_whole_code_and_a_qr_code_of_it(make_event):
    event = make_event()
    result = services.rsvp(event, name="Ana")
    page = soup(Client().get(f"/en/events/rsvp/{result.token}/"))
    code = result.rsvp.checkin_code
    assert page.select_one("code.checkin-code").get_text() == f"{code[:4]}-{code[4:]}"
    assert page.select_one("figure.qr svg")


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "  {a} {b} ", "{a}-{b}", "{a} – {b}"])
def test_a_typed_code_is_accepted_whatever_its_case_spaces_and_dashes(make_event, organiser, typed):
    event = make_event()
    rsvp = services.rsvp(event, name="Ana").rsvp
    code = rsvp.checkin_code
    text = typed.format(code=code, lower=code.lower(), a=code[:4].lower(), b=code[4:])
    result = services.check_in(event, actor=organiser, code=text)
    assert result.first and result.rsvp == rsvp


def test_the_old_signed_qr_codes_still_check_in(make_event, organiser):
    from django.core import signing

    event = make_event()
    rsvp = services.rsvp(event, name="Ana").rsvp
    signed = signing.dumps(
        [event.pk, str(rsvp.public_id)], salt=services.CHECKIN_SALT, compress=True
    )
    assert services.check_in(event, actor=organiser, code=signed).rsvp == rsvp


def _message(client, event, code) -> tuple[int, str]:
    response = client.post(f"/en/events/manage/{event.slug}/checkin/", {"code": code})
    page = client.get(f"/en/events/manage/{event.slug}/")
    return response.status_code, soup(page).select_one(".messages").get_text(" ", strip=True)


def test_bad_codes_get_a_clear_message_never_a_500(make_event, organiser):
    event = make_event()
    other = make_event("Друго вече")
    ana = services.rsvp(event, name="Ana").rsvp
    boris = services.rsvp(other, name="Boris").rsvp
    client = signed_in(organiser)

    assert _message(client, event, ana.checkin_code) == (302, "Welcome, Ana!")
    status, text = _message(client, event, ana.checkin_code.lower())
    assert status == 302 and text.startswith("Ana was already checked in at ")
    status, text = _message(client, event, boris.checkin_code)
    assert status == 302 and text == "This code is for another event."
    unknown = next(
        c for c in ("ACEFGHJK", "MNPRTUVW") if c not in {ana.checkin_code, boris.checkin_code}
    )
    status, text = _message(client, event, unknown)
    assert status == 302 and f"{unknown[:4]}-{unknown[4:]}" in text
    assert "check it letter by letter" in text
    for junk in ("", "   ", "x" * 600, "0O1IL0O1", "<script>", "\u0000"):
        status, text = _message(client, event, junk)
        assert status == 302 and text


def test_a_cancelled_rsvp_is_not_checked_in(make_event, organiser):
    event = make_event()
    rsvp = services.rsvp(event, name="Ana").rsvp
    services.cancel_rsvp(rsvp)
    with pytest.raises(services.EventError, match="cancelled"):
        services.check_in(event, actor=organiser, code=rsvp.checkin_code)


def test_a_waiting_list_rsvp_is_not_checked_in_until_a_place_is_freed(make_event, organiser):
    event = make_event(capacity=1)
    ana = services.rsvp(event, name="Ana").rsvp
    boris = services.rsvp(event, name="Boris").rsvp
    assert boris.status == boris.Status.WAITING
    client = signed_in(organiser)
    status, text = _message(client, event, boris.checkin_code)
    assert status == 302 and "waiting list" in text
    boris.refresh_from_db()
    assert boris.checked_in_at is None
    services.cancel_rsvp(ana)  # Ana cannot come: Boris moves up and gets in
    assert _message(client, event, boris.checkin_code) == (302, "Welcome, Boris!")


def test_an_rsvp_never_confirmed_holds_no_place_at_the_door(make_event, organiser):
    event = make_event()
    pending = services.rsvp(event, name="Vera", contact="vera@example.org").rsvp
    assert pending.status == pending.Status.UNCONFIRMED
    with pytest.raises(services.EventError, match="never confirmed"):
        services.check_in(event, actor=organiser, code=pending.checkin_code)


def test_door_count_poll_gives_the_current_number_to_organisers_only(
    make_event, organiser, personas
):
    event = make_event()
    services.door(event, actor=organiser, delta=1)
    services.door(event, actor=organiser, delta=1)
    url = f"/en/events/manage/{event.slug}/door/count/"
    response = signed_in(organiser).get(url)
    assert response.status_code == 200 and response.content == b"2"
    assert response["Cache-Control"] == "no-store"
    assert Client().get(url).status_code in {302, 403, 404}
    manage_page = soup(signed_in(organiser).get(f"/en/events/manage/{event.slug}/"))
    counter = manage_page.select_one("output.door-count")
    assert counter["hx-get"] == url and "every" in counter["hx-trigger"]


def test_door_count_poll_is_404_for_an_organiser_of_other_events(make_event, organiser):
    from tests.conftest import make_persona

    event = make_event()
    stranger = make_persona("organiser", email="other-organiser@example.org").user
    assert signed_in(stranger).get(f"/en/events/manage/{event.slug}/door/count/").status_code == 404


def test_migration_gives_codes_to_rsvps_made_before_short_codes(make_event):
    event = make_event()
    for name in ("Ana", "Boris", "Vera"):
        services.rsvp(event, name=name)
    Rsvp.objects.update(checkin_code=None)
    migration = importlib.import_module("krov.events.migrations.0007_rsvp_checkin_code_existing")
    migration.give_codes(django_apps, None)
    codes = list(Rsvp.objects.values_list("checkin_code", flat=True))
    assert len(set(codes)) == 3 and all(len(c) == 8 for c in codes)
