"""The public read-only API at /api/v1/ (django-ninja), OpenAPI at /api/v1/openapi.json.

Only published, public data. Pagination, filters by language and date; ETag/304, rate
limits, CORS and the query-length limit are applied by krov.api.middleware.

The OpenAPI document promises exactly what the API does (tests/api checks it with
openapi-spec-validator and schemathesis' full checks): every answer an operation can give,
with its body and headers (`KrovAPI.get_openapi_schema`), and every rule a parameter must
keep as a pattern or bound, so a request the document calls valid is never refused."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone, translation
from ninja import NinjaAPI, Query, Status
from ninja.errors import HttpError

from krov.api import schemas
from krov.bulletins import services as bulletin_services
from krov.bulletins.models import Post, PostVersion
from krov.core import links, markdown
from krov.directory import services as directory
from krov.directory.models import Organisation
from krov.events import services as event_services
from krov.events.models import Event, EventText
from krov.housing import index as rent_index
from krov.housing.models import District, RentIndexCell, RentObservation
from krov.housing.parsing import parse_month

Language = Literal["ru", "uk", "sr", "sr-latn", "en", "de"]
Kind = Literal["open_mic", "concert", "lecture", "film", "protest", "meeting", "other"]
MAX_PAGE_SIZE = 100

# Dates are written YYYY-MM-DD and months YYYY-MM, in the years 1900 to 2200 (far-away dates
# would overflow when moved between time zones). The patterns say so in the document; a
# number (a Unix time) is not a date and is refused, not read as one.
_YEAR = r"(19[0-9]{2}|2[01][0-9]{2}|2200)"
DATE_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"


# A NUL character is refused by the middleware (400): the schema says so for free text.
NO_NUL = r"^[^\x00]*$"


def _date_query(description: str):
    return Query(None, pattern=DATE_PATTERN, description=description, example="2026-03-01")


def _month_query(description: str):
    return Query(None, pattern=MONTH_PATTERN, description=description)


# Answers every operation can give besides its own, whatever its parameters: from
# krov.api.middleware (a NUL character 400, a query string too long 414, the rate limit 429,
# an unchanged answer 304) and from django-ninja (a parameter that breaks its rule 422).
def _message(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
        **extra,
    }


COMMON_RESPONSES = {
    "304": {
        "description": "Not modified: the answer is the one whose ETag was sent in If-None-Match.",
        "headers": {"ETag": {"schema": {"type": "string"}}},
    },
    "400": _message("The request is malformed (e.g. it contains a NUL character)."),
    "414": _message("The query string is longer than 2048 characters."),
    "422": {
        "description": "A parameter breaks its rule (type, pattern, bounds or allowed values).",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}
        },
    },
    "429": _message(
        "Too many requests from this address; try again after Retry-After seconds.",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before the next request.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
}
VALIDATION_ERRORS = {
    "type": "object",
    "title": "ValidationErrors",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        }
    },
}
ETAG_HEADER = {
    "ETag": {
        "description": "Send it back in If-None-Match to get a 304.",
        "schema": {"type": "string"},
    }
}


class KrovAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"].setdefault("schemas", {})["ValidationErrors"] = VALIDATION_ERRORS
        for operations in schema["paths"].values():
            for operation in operations.values():
                # django-ninja's keys are numbers; JSON's are strings: one kind, no twins.
                responses = {str(status): body for status, body in operation["responses"].items()}
                for status, response in COMMON_RESPONSES.items():
                    responses.setdefault(status, response)
                responses["200"].setdefault("headers", {}).update(ETAG_HEADER)
                operation["responses"] = dict(sorted(responses.items()))
                for parameter in operation.get("parameters", []):
                    _tidy(parameter)
        return schema


def _tidy(parameter: dict) -> None:
    """A query string cannot carry null: an optional parameter is one left out, so its
    schema is the non-null one alone (django-ninja writes `anyOf: [..., null]`). A date
    parameter also says it is a `date` (django-ninja's Query cannot pass the format)."""
    choices = parameter["schema"].get("anyOf")
    if choices and {"type": "null"} in choices and len(choices) == 2:
        (kept,) = [c for c in choices if c != {"type": "null"}]
        rest = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
        parameter["schema"] = {**rest, **kept}
    if parameter["schema"].get("pattern") == DATE_PATTERN:
        parameter["schema"]["format"] = "date"


api = KrovAPI(
    title="Krov public API",
    version="1",
    description=(
        "Read-only public data of Krov: published events, bulletins, organisations and the "
        "rent index by district. Dates are written YYYY-MM-DD and months YYYY-MM, in the "
        "years 1900 to 2200."
    ),
    docs_url=None,  # the interactive docs load third-party assets: not on Krov
    urls_namespace="api",
)


def _day(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise HttpError(400, "This day does not exist in the calendar.") from None
    return timezone.make_aware(datetime.combine(day, time.min))


def _page(queryset, page: int, page_size: int):
    paginator = Paginator(queryset, page_size)
    if page > max(1, paginator.num_pages):
        return paginator.count, []
    return paginator.count, list(paginator.page(page).object_list)


def _absolute(request: HttpRequest, path: str) -> str:
    return links.absolute(path)


def _event_out(request: HttpRequest, event: Event, language: str) -> dict:
    text = event.text(language)
    venue = event.venue
    return {
        "slug": event.slug,
        "kind": event.kind,
        "status": event.status,
        "language": text.language if text else event.original_language,
        "title": text.title if text else event.slug,
        "summary": text.summary if text else "",
        "description_html": str(markdown.render(text.description if text else "")),
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "venue": _venue_out(venue, language) if venue else None,
        "address": event.address,
        "capacity": event.capacity,
        "seats_left": event.seats_left,
        "rsvp_mode": event.rsvp_mode,
        "url": _absolute(request, f"/{language}/events/{event.slug}/"),
        "ics_url": _absolute(request, f"/events/{event.slug}.ics"),
    }


def _venue_out(venue, language: str) -> dict:
    """The venue as the page in `language` shows it (its translation, else its own text,
    Serbian in the requested script)."""
    shown = event_services.venue_text(venue, language)
    return {"name": shown.name.text, "address": shown.address.text, "osm_url": venue.osm_url}


def _events():
    return (
        Event.objects.public()
        .select_related("venue")
        .prefetch_related(
            Prefetch("texts", queryset=EventText.objects.all()), "venue__translations"
        )
    )


@api.get(
    "/events",
    response={200: schemas.EventPage, 400: schemas.Message},
    summary="Published public events",
)
def list_events(
    request: HttpRequest,
    lang: Language = "en",
    kind: Kind | None = None,
    since: str | None = _date_query("Events that end on or after this day (YYYY-MM-DD)."),
    until: str | None = _date_query("Events that start on or before this day (YYYY-MM-DD)."),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
):
    events = _events()
    if kind:
        events = events.filter(kind=kind)
    if since:
        events = events.filter(ends_at__gte=_day(since))
    if until:
        events = events.filter(starts_at__lt=_day(until) + timedelta(days=1))
    if not since and not until:
        events = events.filter(ends_at__gte=timezone.now())
    count, items = _page(events.order_by("starts_at", "id"), page, page_size)
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "results": [_event_out(request, e, lang) for e in items],
    }


@api.get(
    "/events/{slug}",
    response={200: schemas.EventOut, 404: schemas.Message},
    summary="One published public event",
)
def get_event(request: HttpRequest, slug: str, lang: Language = "en"):
    event = _events().filter(slug=slug[:80]).first()
    if event is None:
        return Status(404, {"detail": "No published public event has this slug."})
    return Status(200, _event_out(request, event, lang))


def _bulletin_out(request: HttpRequest, post: Post, language: str) -> dict:
    version = post.version(language)
    return {
        "slug": post.slug,
        "language": version.language if version else post.original_language,
        "original_language": post.original_language,
        "languages": sorted(v.language for v in post.versions.all()),
        "title": version.title if version else post.slug,
        "summary": version.summary if version else "",
        "body_html": str(markdown.render(version.body if version else "")),
        "tags": [bulletin_services.tag_name(t, language).text for t in post.tags.all()],
        "author": post.author.pseudonym,
        "published_at": post.published_at,
        "updated_at": post.updated_at,
        "url": _absolute(request, f"/{language}/bulletins/{post.slug}/"),
        "in_answer_to": _answered(post),
    }


def _answered(post: Post) -> dict | None:
    """The press story the bulletin answers (the first, as on its page), prefetched."""
    stories = list(post.press_stories.all())
    if not stories:
        return None
    story = stories[0]
    return {"title": story.title, "source": story.source.name, "url": story.link}


def _posts():
    from krov.press.models import Story

    return (
        Post.objects.published()
        .select_related("author")
        .prefetch_related(
            Prefetch("versions", queryset=PostVersion.objects.all()),
            "tags__translations",
            Prefetch(
                "press_stories", queryset=Story.objects.select_related("source").order_by("pk")
            ),
        )
    )


@api.get(
    "/bulletins",
    response={200: schemas.BulletinPage, 400: schemas.Message},
    summary="Published bulletins",
)
def list_bulletins(
    request: HttpRequest,
    lang: Language = "en",
    tag: str | None = Query(None, max_length=40, pattern=NO_NUL),
    since: str | None = _date_query("Bulletins published on or after this day (YYYY-MM-DD)."),
    until: str | None = _date_query("Bulletins published on or before this day (YYYY-MM-DD)."),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
):
    posts = _posts()
    if tag:
        posts = posts.filter(tags__slug=tag)
    if since:
        posts = posts.filter(published_at__gte=_day(since))
    if until:
        posts = posts.filter(published_at__lt=_day(until) + timedelta(days=1))
    count, items = _page(posts.order_by("-published_at", "-id").distinct(), page, page_size)
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "results": [_bulletin_out(request, p, lang) for p in items],
    }


@api.get(
    "/bulletins/{slug}",
    response={200: schemas.BulletinOut, 404: schemas.Message},
    summary="One published bulletin",
)
def get_bulletin(request: HttpRequest, slug: str, lang: Language = "en"):
    post = _posts().filter(slug=slug[:80]).first()
    if post is None:
        return Status(404, {"detail": "No published bulletin has this slug."})
    return Status(200, _bulletin_out(request, post, lang))


Area = Literal[
    "legal",
    "housing",
    "psychological",
    "language",
    "culture",
    "protest",
    "humanitarian",
    "jobs",
    "documents",
]
Spoken = Literal["ru", "uk", "be", "sr", "en", "de"]


def _organisation_out(request: HttpRequest, org: Organisation, language: str) -> dict:
    text = org.text(language)
    return {
        "slug": org.slug,
        "kind": org.kind,
        "language": text.language if text else org.original_language,
        "name": text.name if text else org.slug,
        "description_html": str(markdown.render(text.description if text else "")),
        "areas": org.area_list,
        "languages_spoken": org.language_list,
        "city": org.city,
        "address": org.address,
        "online": org.online,
        "opening_hours": org.opening_hours,
        "website": org.website,
        "email": org.email,
        "telegram": org.telegram,
        "verified": org.verified_at is not None,
        "url": _absolute(request, f"/{language}/directory/{org.slug}/"),
    }


@api.get(
    "/organisations",
    response={200: schemas.OrganisationPage, 400: schemas.Message},
    summary="The directory of organisations",
)
def list_organisations(
    request: HttpRequest,
    lang: Language = "en",
    kind: Literal["ngo", "centre", "initiative", "media", "company", "public", "other"]
    | None = None,
    area: Area | None = None,
    spoken: Spoken | None = None,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
):
    found = directory.organisations(kind=kind or "", area=area or "", language=spoken or "")
    count, items = _page(found, page, page_size)
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "results": [_organisation_out(request, o, lang) for o in items],
    }


@api.get(
    "/organisations/{slug}",
    response={200: schemas.OrganisationOut, 404: schemas.Message},
    summary="One organisation",
)
def get_organisation(request: HttpRequest, slug: str, lang: Language = "en"):
    org = Organisation.objects.prefetch_related("texts").filter(slug=slug[:80]).first()
    if org is None:
        return Status(404, {"detail": "No organisation has this slug."})
    return Status(200, _organisation_out(request, org, lang))


# --- rent index --------------------------------------------------------------------------


def _number(value) -> float | None:
    return float(value) if value is not None else None


def _cell_out(cell: RentIndexCell | None) -> dict | None:
    if cell is None:
        return None
    return {
        "month": cell.month,
        "suppressed": cell.suppressed,
        "count": None if cell.suppressed else cell.count,
        "median_rent": _number(cell.median_rent),
        "q1_rent": _number(cell.q1_rent),
        "q3_rent": _number(cell.q3_rent),
        "median_per_m2": _number(cell.median_m2),
        "q1_per_m2": _number(cell.q1_m2),
        "q3_per_m2": _number(cell.q3_m2),
        "flagged": cell.flagged,
    }


def _synthetic() -> bool:
    return RentObservation.objects.filter(source=RentObservation.SYNTHETIC_SOURCE).exists()


def _month(value: str | None, default: date | None) -> date | None:
    if not value:
        return default
    try:
        return parse_month(value)
    except ValueError:
        raise HttpError(400, "Months are written YYYY-MM, e.g. 2022-02.") from None


@api.get(
    "/rents",
    response={200: schemas.RentOverview, 400: schemas.Message},
    summary="The rent index: every district at the latest month",
    description=(
        "Median monthly rent (EUR), median per m², interquartile ranges and counts for the "
        "city and each district in the latest month, with the change against 12 months "
        "before and against a base month. Cells with too few rents are `suppressed` and "
        "carry no figures."
    ),
)
def rent_overview(
    request: HttpRequest,
    lang: Language = "en",
    month: str | None = _month_query("YYYY-MM; default the latest"),
    base: str | None = _month_query("YYYY-MM; default 2022-02"),
):
    with translation.override(lang):
        chosen = _month(month, rent_index.latest_month())
        base_month = _month(base, None) or rent_index.base_month()
        rows = rent_index.overview(chosen, base_month) if chosen else []
        areas = [
            {
                "area": row.area,
                "name": str(row.name),
                "latest": _cell_out(row.latest),
                "change_12_months": _number(row.change_year),
                "change_since_base": _number(row.change_base),
                "url": _absolute(request, f"/{lang}/housing/rents/{row.area}/"),
            }
            for row in rows
        ]
    return {
        "month": chosen,
        "base_month": base_month,
        "currency": "EUR",
        "min_cell": settings.KROV_RENT_MIN_CELL,
        "synthetic": _synthetic(),
        "areas": areas,
    }


@api.get(
    "/rents/check",
    response={200: schemas.FairRentOut, 400: schemas.Message, 404: schemas.Message},
    summary="Fair-rent check: where a rent lies in its district",
    description=(
        "The percentile of a rent among the district's counted rents of the last three "
        "months for flats within 30% of the size. `enough_data` is false when there are "
        "too few comparable rents."
    ),
)
def rent_check(
    request: HttpRequest,
    district: str = Query(..., max_length=40, pattern=NO_NUL),
    size_m2: float = Query(..., gt=0, le=10_000),
    rent: float = Query(..., gt=0, le=1_000_000),
    currency: Literal["EUR", "RSD"] = "EUR",
    lang: Language = "en",
):
    place = District.objects.filter(slug=district).first()
    if place is None:
        return Status(404, {"detail": "No district has this slug; see /api/v1/rents."})
    with translation.override(lang):
        rent_eur, _rate = rent_index.to_eur(Decimal(str(rent)), currency)
        verdict = rent_index.fair_rent(place, Decimal(str(size_m2)), rent_eur)
        return Status(
            200,
            {
                "district": place.slug,
                "rent_eur": float(rent_eur),
                "sample_size": verdict.count,
                "enough_data": verdict.enough,
                "percentile": verdict.percentile,
                "median_rent": _number(verdict.median),
                "verdict": str(verdict.sentence),
            },
        )


@api.get(
    "/rents/{area}",
    response={200: schemas.RentSeries, 400: schemas.Message, 404: schemas.Message},
    summary="The rent index of one district (or `city`), month by month",
)
def rent_series(
    request: HttpRequest,
    area: str,
    lang: Language = "en",
    since: str | None = _month_query("YYYY-MM"),
    until: str | None = _month_query("YYYY-MM"),
):
    if area == RentIndexCell.CITY:
        name = "city"
    else:
        place = District.objects.filter(slug=area[:40]).first()
        if place is None:
            return Status(404, {"detail": "No district has this slug; see /api/v1/rents."})
        name = place.name(lang)
    cells = RentIndexCell.objects.filter(area=area).order_by("month")
    first, last = _month(since, None), _month(until, None)
    if first:
        cells = cells.filter(month__gte=first)
    if last:
        cells = cells.filter(month__lte=last)
    return Status(
        200,
        {
            "area": area,
            "name": name,
            "currency": "EUR",
            "min_cell": settings.KROV_RENT_MIN_CELL,
            "synthetic": _synthetic(),
            "months": [_cell_out(c) for c in cells],
        },
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
