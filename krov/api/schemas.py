"""What the public API can return: every field is listed here, and a test compares these
with an explicit allow-list, so nothing private can slip out."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class Message(Schema):
    detail: str


class VenueOut(Schema):
    name: str
    address: str
    osm_url: str


class EventOut(Schema):
    slug: str
    kind: str
    status: str
    language: str
    title: str
    summary: str
    description_html: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: VenueOut | None
    address: str
    capacity: int | None
    seats_left: int | None
    rsvp_mode: str
    url: str
    ics_url: str


class EventPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[EventOut]


class AnsweredStoryOut(Schema):
    """The press story a bulletin answers (krov.press): its headline as the source wrote it."""

    title: str
    source: str
    url: str


class BulletinOut(Schema):
    slug: str
    language: str
    original_language: str
    languages: list[str]
    title: str
    summary: str
    body_html: str
    tags: list[str]
    author: str
    published_at: datetime
    updated_at: datetime
    url: str
    # The press story this bulletin answers, or null (Atom: <link rel="related">).
    in_answer_to: AnsweredStoryOut | None = None

    @staticmethod
    def resolve_in_answer_to(obj) -> dict | None:
        if isinstance(obj, dict) and "in_answer_to" in obj:
            return obj["in_answer_to"]
        from krov.press.models import Story

        slug = obj["slug"] if isinstance(obj, dict) else obj.slug
        story = (
            Story.objects.select_related("source")
            .filter(answered_by__slug=slug)
            .order_by("pk")
            .first()
        )
        if story is None:
            return None
        return {"title": story.title, "source": story.source.name, "url": story.link}


class BulletinPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[BulletinOut]


class OrganisationOut(Schema):
    slug: str
    kind: str
    language: str
    name: str
    description_html: str
    areas: list[str]
    languages_spoken: list[str]
    city: str
    address: str
    online: bool
    opening_hours: str
    website: str
    email: str
    telegram: str
    verified: bool
    url: str


class OrganisationPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[OrganisationOut]


class DateRange(Schema):
    since: date | None = None
    until: date | None = None


class RentCellOut(Schema):
    month: date
    suppressed: bool
    count: int | None
    median_rent: float | None
    q1_rent: float | None
    q3_rent: float | None
    median_per_m2: float | None
    q1_per_m2: float | None
    q3_per_m2: float | None
    flagged: int


class RentAreaOut(Schema):
    area: str
    name: str
    latest: RentCellOut | None
    change_12_months: float | None
    change_since_base: float | None
    url: str


class RentOverview(Schema):
    month: date | None
    base_month: date
    currency: str
    min_cell: int
    synthetic: bool
    areas: list[RentAreaOut]


class RentSeries(Schema):
    area: str
    name: str
    currency: str
    min_cell: int
    synthetic: bool
    months: list[RentCellOut]


class FairRentOut(Schema):
    district: str
    rent_eur: float
    sample_size: int
    enough_data: bool
    percentile: int | None
    median_rent: float | None
    verdict: str
