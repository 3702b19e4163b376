"""An empty POST to an events form gets the form's errors, not a bare 400."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_an_empty_rsvp_post_says_what_is_missing(make_event):
    event = make_event()
    response = Client().post(f"/en/events/{event.slug}/rsvp/", {})
    assert response.status_code == 400
    assert soup(response).select(".error, .errorlist")


def test_an_empty_new_event_post_says_what_is_missing(organiser):
    response = signed_in(organiser).post("/en/events/manage/", {})
    assert response.status_code == 400
    assert soup(response).select(".error, .errorlist")
