"""The public API: what it returns (and only that), filters, bad input, ETag/304, limits,
CORS, and schemathesis against the live OpenAPI document."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

EVENT_FIELDS = {
    "slug",
    "kind",
    "status",
    "language",
    "title",
    "summary",
    "description_html",
    "starts_at",
    "ends_at",
    "time_zone",
    "venue",
    "address",
    "capacity",
    "seats_left",
    "rsvp_mode",
    "url",
    "ics_url",
}
VENUE_FIELDS = {"name", "address", "osm_url"}
BULLETIN_FIELDS = {
    "slug",
    "in_answer_to",
    "language",
    "original_language",
    "languages",
    "title",
    "summary",
    "body_html",
    "tags",
    "author",
    "published_at",
    "updated_at",
    "url",
}
PAGE_FIELDS = {"count", "page", "page_size", "results"}


def get(path: str, **headers):
    return Client().get(path, **headers)


def test_every_field_the_api_returns_is_on_the_allow_list(data):
    page = get("/api/v1/events?lang=sr-latn").json()
    assert set(page) == PAGE_FIELDS
    (event,) = page["results"]
    assert set(event) == EVENT_FIELDS and set(event["venue"]) == VENUE_FIELDS
    assert event["title"] == "Otvoreni mikrofon"
    detail = get(f"/api/v1/events/{data['event'].slug}").json()
    assert set(detail) == EVENT_FIELDS
    posts = get("/api/v1/bulletins?lang=ru").json()
    (post,) = posts["results"]
    assert set(post) == BULLETIN_FIELDS
    assert set(get(f"/api/v1/bulletins/{data['post'].slug}").json()) == BULLETIN_FIELDS
    everything = json.dumps([page, detail, posts])
    for secret in ["Private Person", "private@example.org", "secret draft", "Members", "@example"]:
        assert secret not in everything


def test_the_openapi_document_describes_exactly_these_fields(data):
    spec = get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["EventOut"]["properties"]) == EVENT_FIELDS
    assert set(schemas["BulletinOut"]["properties"]) == BULLETIN_FIELDS
    assert set(schemas["VenueOut"]["properties"]) == VENUE_FIELDS
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert {m for ops in spec["paths"].values() for m in ops} == {"get"}


def test_filters_by_language_kind_tag_and_date(data):
    assert get("/api/v1/events?kind=protest").json()["count"] == 0
    assert get("/api/v1/events?kind=open_mic").json()["count"] == 1
    tag = data["post"].tags.get().slug
    assert get(f"/api/v1/bulletins?tag={tag}").json()["count"] == 1
    assert get("/api/v1/bulletins?tag=nothing").json()["count"] == 0
    far = (timezone.now() + timedelta(days=30)).date().isoformat()
    assert get(f"/api/v1/events?since={far}").json()["count"] == 0
    assert get("/api/v1/bulletins?lang=en").json()["results"][0]["language"] == "ru"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events?lang=tlh",
        "/api/v1/events?page=0",
        "/api/v1/events?page=abc",
        "/api/v1/events?page_size=1000",
        "/api/v1/events?since=yesterday",
        "/api/v1/events?kind=rave",
        "/api/v1/bulletins?until=2026-02-30",
        "/api/v1/events/no-such-event",
        "/api/v1/bulletins/no-such-post",
        "/api/v1/events?q=" + "x" * 3000,
        "/api/v1/bulletins?since=0001-01-01",
        "/api/v1/events?until=9999-12-31",
        # NUL cannot be stored or compared in PostgreSQL text: refused before any query.
        "/api/v1/bulletins?tag=%00",
        "/api/v1/rents/%00",
        "/api/v1/rents/check?district=a%00&size_m2=50&rent=500",
        "/api/v1/organisations/x%00y",
    ],
)
def test_bad_input_gets_a_clear_4xx_never_a_500(data, path):
    response = get(path)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_a_page_past_the_end_is_empty_not_an_error(data):
    page = get("/api/v1/events?page=50").json()
    assert page["results"] == [] and page["count"] == 1


def test_etag_and_304(data):
    first = get("/api/v1/events")
    assert first.status_code == 200 and first["ETag"]
    again = get("/api/v1/events", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_cors_for_get_and_preflight(data):
    assert get("/api/v1/events")["Access-Control-Allow-Origin"] == "*"
    preflight = Client().options("/api/v1/events", HTTP_ORIGIN="https://example.org")
    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]


def test_writes_are_not_allowed(data):
    assert Client().post("/api/v1/events", {}).status_code == 405


def test_rate_limit_answers_429_with_retry_after(data, settings):
    settings.KROV_API_PER_MINUTE = 3
    statuses = [get("/api/v1/bulletins").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert get("/api/v1/bulletins")["Retry-After"] == "60"


def _rate_limit_entries() -> dict:
    from django.core.cache import cache

    return {key: value for key, value in cache._cache.items() if ":rl:" in key}


def test_a_cached_answer_writes_nothing_about_the_client(data, settings):
    """The answer comes from the page cache: counted in the worker's memory, the shared
    cache untouched (only a query that reaches the database writes a count)."""
    settings.KROV_API_PER_MINUTE = 100
    assert get("/api/v1/events", REMOTE_ADDR="203.0.113.20")["X-Krov-Cache"] == "miss"
    counted = _rate_limit_entries()
    assert len(counted) == 1
    for _ in range(5):
        assert get("/api/v1/events", REMOTE_ADDR="203.0.113.20")["X-Krov-Cache"] == "hit"
    assert _rate_limit_entries() == counted


def test_uncached_queries_are_limited_across_workers(data, settings):
    """Each new query reaches the database: counted in the shared cache, so another worker
    (or app server) refuses the client's next one as well."""
    from krov.core import ratelimit

    settings.KROV_API_PER_MINUTE = 3
    statuses = [get(f"/api/v1/events?page={n}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    ratelimit.forget_counted_here()  # another worker: nothing counted in its memory
    assert get("/api/v1/events?page=9").status_code == 429


def test_answers_are_cached_and_refreshed_when_content_changes(
    data, personas, django_capture_on_commit_callbacks
):
    from krov.events import services as events

    first = get("/api/v1/events").json()
    assert first["count"] == 1
    organiser = personas["organiser"].user
    starts = timezone.now() + timedelta(days=5)
    other = events.create_event(
        actor=organiser,
        title="New",
        language="en",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(other, actor=organiser)
    assert get("/api/v1/events").json()["count"] == 2


def test_the_api_enumerations_are_the_models_choices():
    """The OpenAPI enums are written out for the schema; they must say what the models say."""
    from typing import get_args

    from django.conf import settings

    from krov.api import api as module
    from krov.directory.models import AREAS, LANGUAGES_SPOKEN, Organisation
    from krov.events.models import Event

    assert set(get_args(module.Language)) == {code for code, _name in settings.LANGUAGES}
    assert set(get_args(module.Kind)) == set(Event.Kind.values)
    assert set(get_args(module.Area)) == set(AREAS)
    assert set(get_args(module.Spoken)) == set(LANGUAGES_SPOKEN)
    from typing import get_type_hints

    kind = get_type_hints(module.list_organisations)["kind"]  # Literal[...] | None
    literal = next(arg for arg in get_args(kind) if get_args(arg))
    assert set(get_args(literal)) == set(Organisation.Kind.values)


def test_venue_and_tag_names_come_in_the_requested_language_and_script(data, personas):
    from krov.bulletins import services as bulletin_services
    from krov.events import services as event_services

    event, post = data["event"], data["post"]
    event_services.set_venue_translation(
        event.venue,
        actor=personas["admin"].user,
        language="ru",
        name="Квака 22",
        address="ул. Королевы Натальи, 11",
    )
    tag = post.tags.get()
    bulletin_services.translate_tags(
        tag, actor=personas["editor"].user, names={"en": "war", "sr": "рат"}
    )

    def venue(lang):
        return json.loads(get(f"/api/v1/events?lang={lang}").content)["results"][0]["venue"]

    assert venue("ru") == {
        "name": "Квака 22",
        "address": "ул. Королевы Натальи, 11",
        "osm_url": "",
    }
    assert venue("en")["name"] == "Kvaka 22"  # no English text: the venue's own

    def tags(lang):
        return json.loads(get(f"/api/v1/bulletins/{post.slug}?lang={lang}").content)["tags"]

    assert tags("en") == ["war"]
    assert tags("sr") == ["рат"]
    assert tags("sr-latn") == ["rat"]
    assert tags("uk") == ["война"]  # no Ukrainian name: as first written


def test_the_events_list_asks_the_same_number_of_queries_however_many_venues(data, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from krov.events import services as event_services
    from krov.events.models import Venue

    def fresh_count() -> int:
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as seen:
            assert get("/api/v1/events?lang=ru").status_code == 200
        return len(seen.captured_queries)

    few = fresh_count()
    organiser = personas["organiser"].user
    for number in range(5):
        venue = Venue.objects.create(name=f"Mesto {number}", address=f"Ulica {number}")
        event_services.set_venue_translation(
            venue, actor=personas["admin"].user, language="ru", name=f"Место {number}"
        )
        starts = timezone.now() + timedelta(days=3 + number)
        event = event_services.create_event(
            actor=organiser,
            title=f"Lecture {number}",
            language="en",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            venue=venue,
        )
        event_services.publish(event, actor=organiser)
    assert fresh_count() == few
