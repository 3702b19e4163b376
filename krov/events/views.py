"""Event pages: the public list and detail, RSVP, the live open-mic page, iCal feeds, and the
organiser's pages. Thin: each view reads the request, calls a service, renders."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.formats import time_format
from django.utils.http import http_date
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.core import inputs, links, markdown, pagecache, ratelimit, structured, undo
from krov.core.access import public, requires
from krov.core.clientip import client_address
from krov.core.pagecache import cache_public_page
from krov.events import forms, ical, services
from krov.events.models import Event, EventText, Rsvp, Slot, Venue

ORGANISE = "accounts.organise_events"
PERFORMER_COOKIE = "krov_performer"


def _events():
    return services.with_texts()


def _event_or_404(request: HttpRequest, slug: str) -> Event:
    event = _events().filter(slug=slug).first()
    if event is None or not services.visible_to(request.user, event):
        raise Http404
    return event


# --- public -----------------------------------------------------------------------------------


@public
@require_safe
@cache_public_page("events")
def event_list(request: HttpRequest) -> HttpResponse:
    form = forms.FilterForm(request.GET or None)
    events = _events().public()
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        events = events.filter(ends_at__gte=timezone.now())
    else:
        data = form.cleaned_data if form.is_bound else {}
        if data.get("kind"):
            events = events.filter(kind=data["kind"])
        if data.get("language"):
            events = events.filter(texts__language=data["language"])
        start, end = data.get("start"), data.get("end")
        if start:
            events = events.filter(ends_at__gte=_day_start(start))
        if end:
            events = events.filter(starts_at__lt=_day_start(end) + timedelta(days=1))
        if not start and not end:
            events = events.filter(ends_at__gte=timezone.now())
    page = Paginator(events.distinct(), 20).get_page(request.GET.get("page"))
    return render(request, "events/list.html", {"form": form, "page": page}, status=status)


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _json_ld(request: HttpRequest, event: Event, text: EventText | None) -> str:
    cancelled = event.status == Event.Status.CANCELLED
    status = "https://schema.org/" + ("EventCancelled" if cancelled else "EventScheduled")
    venue = services.venue_text(event.venue) if event.venue else None
    place = {
        "@type": "Place",
        "name": venue.name.text if venue else event.address,
        "address": structured.postal_address(venue.address.text if venue else event.address),
    }
    here = links.absolute(event.get_absolute_url())
    organisers = [
        {"@type": "Organization", "name": org.text().name if org.text() else org.slug}
        | {"url": links.absolute(org.get_absolute_url())}
        for org in event.organisations.prefetch_related("texts")
    ]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": text.title if text else event.slug,
        "description": text.summary if text else "",
        "startDate": timezone.localtime(event.starts_at).isoformat(),
        "endDate": timezone.localtime(event.ends_at).isoformat(),
        "eventStatus": status,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": place,
        "url": here,
        "inLanguage": text.language if text else event.original_language,
        "organizer": organisers or structured.site_organisation(),
    }
    if event.cover:
        data["image"] = [here + "cover.jpg"]
    return structured.script_json(data)


def _alternates(request: HttpRequest, event: Event) -> list[dict]:
    from django.urls import translate_url

    here = links.absolute(event.get_absolute_url())
    return [{"code": t.language, "url": translate_url(here, t.language)} for t in event.texts.all()]


@public
@require_safe
@cache_public_page("events")
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_or_404(request, slug)
    text = event.text(get_language())
    context = {
        "event": event,
        "text": text,
        "description": markdown.render(text.description if text else ""),
        "not_translated": text is not None and text.language != get_language(),
        "json_ld": _json_ld(request, event, text),
        "alternates": _alternates(request, event),
        # Only the languages the event is written in (overrides the site-wide list).
        "language_alternates_hreflang": _alternates(request, event),
        "absolute_url": links.absolute(event.get_absolute_url()),
        "cover_url": links.absolute(event.get_absolute_url()) + "cover.jpg",
    }
    return render(request, "events/detail.html", context)


@public
@require_http_methods(["GET", "POST"])
def rsvp(request: HttpRequest, slug: str) -> HttpResponse:
    """The RSVP form: a partial the (cached) detail page loads with htmx, or a page of its
    own without JavaScript; POST stores the RSVP."""
    event = _event_or_404(request, slug)
    form = forms.RsvpForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and not ratelimit.for_address(
        "rsvp", f"{event.pk}:{client_address(request)}", limit=20, window=3600
    ):
        return HttpResponse(
            _("Many RSVPs came from your connection in the last hour; please try again later."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.rsvp(
                    event, name=form.cleaned_data["name"], contact=form.cleaned_data["contact"]
                )
            except services.EventError as error:
                form.add_error(None, str(error))
                status = 409
            else:
                if result.token is None:  # the link went to their mail, new or not
                    mailed = {"event": event, "text": event.text(get_language())}
                    template = "events/rsvp_mailed.html"
                    if getattr(request, "htmx", False):
                        template = "events/partials/_rsvp_mailed.html"
                    return render(request, template, mailed)
                return redirect("events:rsvp", token=result.token)
        else:
            status = 400
    context: dict[str, Any] = {
        "event": event,
        "text": event.text(get_language()),
        "rsvp_form": form,
    }
    if getattr(request, "htmx", False):
        return render(request, "events/partials/_rsvp_form.html", context, status=status)
    return render(request, "events/rsvp_form.html", context, status=status)


@public
@require_POST
def count_me_in(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_or_404(request, slug)
    mark = f"krov_counted_{event.pk}"
    try:
        count = services.count_me_in(
            event,
            client_address=client_address(request),
            already_counted=request.COOKIES.get(mark) == "1",
        )
    except services.EventError as error:
        messages.error(request, str(error))
        return redirect(event.get_absolute_url())
    messages.success(
        request,
        ngettext(
            "Counted. %(count)s person is coming.", "Counted. %(count)s people are coming.", count
        )
        % {"count": count},
    )
    response = redirect(event.get_absolute_url())
    # The browser remembers that it counted, until the event ends; the server does not.
    response.set_cookie(
        mark,
        "1",
        max_age=max(60, int((event.ends_at - timezone.now()).total_seconds())),
        path="/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _rsvp_or_404(token: str) -> Rsvp:
    found = services.rsvp_for_token(token)
    if found is None:
        raise Http404
    return found


@public
@require_safe
def rsvp_page(request: HttpRequest, token: str) -> HttpResponse:
    import segno

    found = _rsvp_or_404(token)
    code = services.checkin_code(found)
    qr_svg = segno.make(code, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    response = render(
        request,
        "events/rsvp.html",
        {"rsvp": found, "event": found.event, "code": code, "qr_svg": qr_svg, "token": token},
    )
    response["Cache-Control"] = "no-store"
    return response


@public
@require_POST
def rsvp_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """A button, not the GET of the link: mail scanners that open links confirm nothing."""
    found = _rsvp_or_404(token)
    try:
        services.confirm_rsvp(found)
    except services.EventError as error:
        messages.error(request, str(error))
    return redirect("events:rsvp", token=token)


@public
@require_POST
def rsvp_cancel(request: HttpRequest, token: str) -> HttpResponse:
    found = _rsvp_or_404(token)
    services.cancel_rsvp(found)
    messages.success(request, _("Your RSVP is cancelled."))
    return redirect("events:rsvp", token=token)


@public
@require_POST
def perform(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_or_404(request, slug)
    form = forms.SlotForm(request.POST)
    person = request.get_signed_cookie(PERFORMER_COOKIE, default="", salt="krov.events")
    person = person or secrets.token_hex(16)
    if form.is_valid():
        try:
            services.sign_up(event, person_key=person, **form.cleaned_data)
        except services.EventError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("You are in the queue."))
    else:
        messages.error(request, _("Please give a stage name and 1 to 60 minutes."))
    response = redirect("events:live", slug=event.slug)
    response.set_signed_cookie(
        PERFORMER_COOKIE,
        person,
        salt="krov.events",
        max_age=86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@public
@require_safe
def live(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_or_404(request, slug)
    if event.kind != Event.Kind.OPEN_MIC:
        raise Http404
    context = {"event": event, "text": event.text(get_language()), **services.live_state(event)}
    context["slot_form"] = forms.SlotForm()
    return render(request, "events/live.html", context)


def _signup_open(event: Event) -> bool:
    return (
        event.status == Event.Status.PUBLISHED
        and not event.is_past
        and event.queue_open
        and not (event.queue_closes_at and event.queue_closes_at <= timezone.now())
    )


@public
@require_safe
def live_wall(request: HttpRequest, slug: str) -> HttpResponse:
    """The live page for a projector or a big screen: no site chrome, the act on stage in
    huge type, the next three smaller, a QR code to sign up; it follows the queue itself
    (htmx polls the live state; without JavaScript the page reloads)."""
    import segno

    event = _event_or_404(request, slug)
    if event.kind != Event.Kind.OPEN_MIC:
        raise Http404
    signup_url = request.build_absolute_uri(reverse("events:live", args=[event.slug]))
    context = {
        "event": event,
        "text": event.text(get_language()),
        "signup_open": _signup_open(event),
        "signup_url": signup_url,
        # No fixed size: the wall's CSS makes it as large as the screen allows.
        "signup_qr": segno.make(signup_url, error="m").svg_inline(
            scale=8, dark="#000", light="#fff", omitsize=True
        ),
        **services.live_state(event),
    }
    return render(request, "events/wall.html", context)


@public
@require_safe
def live_state(request: HttpRequest, slug: str) -> HttpResponse:
    """The part the live page polls. Its ETag is the queue's version, kept in the cache
    (dropped on every change): an unchanged queue costs a cache read and a 304."""
    key = services.live_cache_key(slug)
    row = cache.get(key)
    if row is None:
        row = (
            Event.objects.filter(slug=slug, kind=Event.Kind.OPEN_MIC)
            .exclude(status=Event.Status.DRAFT)
            .values("pk", "queue_version", "visibility")
            .first()
        )
        if row is not None:
            cache.set(key, row, 300)
    if row is None or row["visibility"] == Event.Visibility.MEMBERS:
        raise Http404
    etag = f'"q{row["pk"]}-{row["queue_version"]}-{get_language()}"'
    response: HttpResponse
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        event = Event.objects.get(pk=row["pk"])
        response = render(request, "events/partials/_live_state.html", services.live_state(event))
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@public
@require_safe
def cover(request: HttpRequest, slug: str) -> HttpResponseBase:
    from django.core.files.storage import default_storage
    from django.http import FileResponse

    event = _event_or_404(request, slug)
    if not event.cover or not default_storage.exists(event.cover):
        raise Http404
    response = FileResponse(default_storage.open(event.cover, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _calendar_response(request: HttpRequest, body: bytes, last_modified: datetime | None):
    """The .ics answer with a strong ETag (of the body) and Last-Modified (the newest change
    of an event in it); 304 when the reader's copy is current."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    modified = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = "public, max-age=300"
    return response


@public
@require_safe
@cache_public_page("events")
def feed(request: HttpRequest) -> HttpResponse:
    events = _events().public().filter(ends_at__gte=timezone.now() - timedelta(days=90))[:500]
    # Rendering up to 500 events is the expensive part: keep the file until events change.
    key = f"krov:ics:feed:{pagecache.version('events')}"
    cached = cache.get(key)
    if cached is None:
        events = list(events)
        newest = max((e.updated_at for e in events), default=None)
        cached = (ical.calendar(events, name="Krov"), newest)
        cache.set(key, cached, 300)
    body, newest = cached
    return _calendar_response(request, body, newest)


@public
@require_safe
@cache_public_page("events")
def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_or_404(request, slug)
    body = ical.calendar([event], name=event.slug)
    response = _calendar_response(request, body, event.updated_at)
    if response.status_code == 200:
        response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    if event.visibility != Event.Visibility.PUBLIC:
        response["Cache-Control"] = "private, no-cache"
    return response


def sitemap_pages() -> Iterator[tuple[str, date]]:
    """The events' part of the sitemap (krov.core.sitemap): upcoming public events, in each
    language they are written in."""
    upcoming = Event.objects.public().filter(ends_at__gte=timezone.now()).prefetch_related("texts")
    for event in upcoming[:5000]:
        changed = event.updated_at.date()
        for text in event.texts.all():
            yield f"/{text.language}/events/{event.slug}/", changed


# --- organisers -------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@requires(ORGANISE)
@require_http_methods(["GET", "POST"])
def manage_list(request: HttpRequest) -> HttpResponse:
    form = forms.EventForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = services.create_event(actor=_user(request), **data)
            except services.EventError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("The event is saved as a draft."))
                return redirect("events:manage", slug=event.slug)
        else:
            status = 400
    events = (
        services.organised_by(request.user)
        .filter(ends_at__gte=timezone.now() - timedelta(days=30))
        .distinct()[:100]
    )
    return render(
        request, "events/manage_list.html", {"form": form, "events": events}, status=status
    )


VENUES_PER_PAGE = 20


@requires("events.change_venue")
@require_http_methods(["GET", "POST"])
def venues(request: HttpRequest) -> HttpResponse:
    """The venues, each with its name, address and accessibility notes in the other
    languages: whoever keeps the venues (the admin role) translates them here, on a phone
    too. POST: one venue's texts (krov.events.services.translate_venue); a refusal is shown
    beside the form, filled in as typed (400); a venue that is gone is 404."""
    query = request.GET.get("q", "").strip()[:60]
    page = Paginator(services.find_venues(query), VENUES_PER_PAGE).get_page(request.GET.get("page"))
    forms_by_venue = {venue.pk: forms.VenueTextsForm(venue=venue) for venue in page}
    status = 200
    if request.method == "POST":
        venue = _posted_venue(request)
        form = forms.VenueTextsForm(request.POST, venue=venue)
        if form.is_valid():
            try:
                changed = services.translate_venue(venue, actor=_user(request), texts=form.texts())
            except services.VenueTextError as error:
                form.refuse(error)
            except services.EventError as error:
                form.add_error(None, str(error))
            else:
                if changed:
                    messages.success(request, _("The venue's texts are saved."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect(request.get_full_path() + f"#venue-{venue.pk}")
        status = 400
        messages.error(request, _("The venue's texts were not saved: see the form below."))
        # The refused form in its place on the page, or first when that page is another.
        if venue.pk in forms_by_venue:
            forms_by_venue[venue.pk] = form
        else:
            forms_by_venue = {venue.pk: form, **forms_by_venue}
    context = {"page": page, "query": query, "forms": list(forms_by_venue.values())}
    response = render(request, "events/venues.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _posted_venue(request: HttpRequest) -> Venue:
    """The venue a POST to the venues page names, as the page lists it, else 404."""
    pk = request.POST.get("venue", "")
    valid = pk.isascii() and pk.isdigit() and len(pk) < 19
    venue = services.listed_venues().filter(pk=pk).first() if valid else None
    if venue is None:
        raise Http404
    return venue


def _managed(request: HttpRequest, slug: str) -> Event:
    event = _events().filter(slug=slug).first()
    if event is None or not services.can_manage(request.user, event):
        raise Http404
    return event


@requires(ORGANISE)
@require_safe
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed(request, slug)
    query = request.GET.get("q", "").strip()[:60].casefold()
    rsvps = list(event.rsvps.exclude(status=Rsvp.Status.CANCELLED)[:1000])
    if query:
        rsvps = [r for r in rsvps if query in (r.name or "").casefold()]
    context = {
        "event": event,
        "text": event.text(get_language()),
        "rsvps": rsvps,
        "query": query,
        "slots": event.slots.exclude(status=Slot.Status.SKIPPED).order_by("position", "id"),
        "text_form": forms.TextForm(initial={"language": get_language()}),
        "settings_form": forms.SettingsForm(
            initial={
                "kind": event.kind,
                "starts_at": timezone.localtime(event.starts_at),
                "ends_at": timezone.localtime(event.ends_at),
                "venue": event.venue_id,
                "address": event.address,
                "capacity": event.capacity,
                "rsvp_mode": event.rsvp_mode,
                "visibility": event.visibility,
                "queue_open": event.queue_open,
                "queue_closes_at": event.queue_closes_at
                and timezone.localtime(event.queue_closes_at),
                "queue_max_slots": event.queue_max_slots,
            }
        ),
        "slot_form": forms.SlotForm(),
        "absolute_url": request.build_absolute_uri(event.get_absolute_url()),
    }
    response = render(request, "events/manage.html", context)
    response["Cache-Control"] = "no-store"
    return response


@requires(ORGANISE)
@require_safe
def door_count(request: HttpRequest, slug: str) -> HttpResponse:
    """The door counter's number, which every door phone polls (events/partials/_door.html):
    a click on one phone shows on the others within seconds."""
    event = Event.objects.filter(slug=slug).only("pk", "door_count").first()
    if event is None or not services.can_manage(request.user, event):
        raise Http404
    response = HttpResponse(str(event.door_count), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@requires(ORGANISE)
@require_POST
def manage_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    event = _managed(request, slug)
    handler = ACTIONS.get(action)
    if handler is None:  # an unknown action in the URL; a KeyError from a handler is a bug
        raise Http404
    actor = _user(request)
    try:
        result = handler(request, event, actor)
    except services.EventError as error:
        if getattr(request, "htmx", False):
            return HttpResponse(str(error), status=409)
        messages.error(request, str(error))
        result = None
    return result or redirect("events:manage", slug=event.slug)


def _publish(request, event, actor):
    services.publish(event, actor=actor)
    messages.success(request, _("Published."))


def _cancel(request, event, actor):
    if not inputs.confirmed(request):
        raise services.EventError(_("Tick “I am sure” first: nothing was done."))
    before = event.status
    told = services.cancel(event, actor=actor, notice=request.POST.get("notice", "")[:500])
    messages.success(
        request,
        ngettext(
            "Cancelled. %(count)s person will be told by email in five minutes, unless you "
            "undo it.",
            "Cancelled. %(count)s people will be told by email in five minutes, unless you "
            "undo it.",
            told,
        )
        % {"count": told},
    )
    undo.offer(request, "events.cancel", event=event.pk, status=before)


def _announce(request, event, actor):
    services.announce(event, actor=actor, url=request.build_absolute_uri(event.get_absolute_url()))
    messages.success(request, _("The announcement is queued for the Telegram channel."))


def _repeat(request, event, actor):
    try:
        count = int(request.POST.get("count", "0"))
    except ValueError:
        count = 0
    made = services.repeat(event, actor=actor, every=request.POST.get("every", ""), count=count)
    messages.success(
        request,
        ngettext("%(count)s more date created.", "%(count)s more dates created.", len(made))
        % {"count": len(made)},
    )


def _settings(request, event, actor):
    form = forms.SettingsForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        raise services.EventError(errors or _("Please check the form."))
    services.update_event(event, actor=actor, **form.cleaned_data)
    messages.success(request, _("Saved."))


def _text(request, event, actor):
    form = forms.TextForm(request.POST)
    if not form.is_valid():
        raise services.EventError(_("Please give at least a language and a title."))
    services.set_text(event, actor=actor, **form.cleaned_data)
    messages.success(request, _("Text saved."))


def _checkin(request, event, actor):
    rsvp_id = request.POST.get("rsvp")
    target = None
    if rsvp_id:
        target = event.rsvps.filter(public_id=inputs.uuid_or_none(rsvp_id)).first()
        if target is None:
            raise services.EventError(_("This code is for another event."))
    result = services.check_in(
        event, actor=actor, code=request.POST.get("code", "")[:500], rsvp_obj=target
    )
    when = time_format(timezone.localtime(result.at), "TIME_FORMAT")
    if result.first:
        messages.success(request, _("Welcome, %(name)s!") % {"name": result.rsvp.name})
    else:
        messages.warning(
            request,
            _("%(name)s was already checked in at %(time)s.")
            % {"name": result.rsvp.name, "time": when},
        )


def _door(request, event, actor):
    delta = 1 if request.POST.get("delta") == "1" else -1
    count = services.door(event, actor=actor, delta=delta)
    if getattr(request, "htmx", False):
        return render(request, "events/partials/_door.html", {"event": event, "count": count})
    return None


def _cover(request, event, actor):
    upload = request.FILES.get("cover")
    if upload is None:
        raise services.EventError(_("Please choose a picture."))
    services.set_cover(event, actor=actor, upload=upload)
    messages.success(request, _("Cover saved."))


def _slot_add(request, event, actor):
    form = forms.SlotForm(request.POST)
    if not form.is_valid():
        raise services.EventError(_("Please give a stage name and 1 to 60 minutes."))
    services.sign_up(event, actor=actor, **form.cleaned_data)


def _slot(request, event, actor):
    slot = get_object_or_404(
        Slot, event=event, public_id=inputs.uuid_or_none(request.POST.get("slot", ""))
    )
    what = request.POST.get("do", "")
    if what in {"up", "down"}:
        services.move_slot(slot, actor=actor, up=what == "up")
    else:
        services.set_slot_status(slot, actor=actor, status=what)
    if getattr(request, "htmx", False):
        slots = event.slots.exclude(status=Slot.Status.SKIPPED).order_by("position", "id")
        return render(
            request, "events/partials/_queue_admin.html", {"event": event, "slots": slots}
        )
    return None


ACTIONS = {
    "publish": _publish,
    "cancel": _cancel,
    "announce": _announce,
    "repeat": _repeat,
    "text": _text,
    "settings": _settings,
    "checkin": _checkin,
    "door": _door,
    "cover": _cover,
    "slot-add": _slot_add,
    "slot": _slot,
}
