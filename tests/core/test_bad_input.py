"""Input that once gave a 500 now gets a 4xx with a message a person understands, and
nothing is stored (bad input loses nothing that was there before, and stores nothing)."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krov.core import inputs
from krov.events.models import Event
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("base", ["0001-01", "1899-12", "2201-01", "9999-12", "2021-13", "abc"])
def test_rent_index_base_month_out_of_range_is_400_with_a_message(client, base):
    response = client.get(f"/en/housing/rents/?base={base}")
    assert response.status_code == 400
    assert b"2022-02" in response.content


def event_form(**changes) -> dict:
    return {
        "title": "Lecture",
        "language": "en",
        "kind": "lecture",
        "starts_at": "2027-03-05T19:00",
        "ends_at": "2027-03-05T22:00",
        "rsvp_mode": "open",
        "visibility": "public",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": str(10**30)}, "at most 100000"),
        ({"capacity": "-5"}, "at least 1"),
        ({"starts_at": "0001-01-01T19:00", "ends_at": "0001-01-01T22:00"}, "between 1900"),
        ({"starts_at": "9999-12-31T19:00", "ends_at": "9999-12-31T23:00"}, "between 1900"),
    ],
)
def test_event_numbers_and_dates_are_bounded_at_the_form(personas, changes, message):
    client = signed_in(personas["organiser"].user)
    response = client.post("/en/events/manage/", event_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_a_form_in_an_unknown_charset_is_400_with_a_message():
    response = Client().generic(
        "POST",
        "/en/help/",
        b"description=%FF",
        content_type="application/x-www-form-urlencoded; charset=no-such-charset",
    )
    assert response.status_code == 400
    assert b"UTF-8" in response.content


def test_a_form_in_a_known_other_charset_still_works(client):
    response = client.generic(
        "POST",
        "/en/help/",
        b"description=caf%E9",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert response.status_code in {200, 400}  # the form answers, with its own messages


def test_removing_a_photo_with_an_absurd_id_changes_nothing(personas):
    from tests.helpers import signed_in
    from tests.housing.test_listings import form_data

    member = personas["member"].user
    client = signed_in(member)
    assert client.post("/en/housing/new/", form_data()).status_code == 302
    from krov.housing.models import Listing

    listing = Listing.objects.get()
    response = client.post(
        f"/en/housing/{listing.pk}/edit/", {**form_data(), "remove": [str(10**30), "-1", "x"]}
    )
    assert response.status_code == 302


@given(raw=st.one_of(st.text(max_size=40), st.integers().map(str)))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_db_ids_never_exceed_what_the_database_holds(raw):
    value = inputs.db_id_or_none(raw)
    assert value is None or 0 < value <= inputs.MAX_DB_INT
