"""Events: every rule about events, RSVPs, check-in, the door count and the open-mic queue.
Views, tasks, commands and the admin call these; none of them saves an event model."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Max, Prefetch, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from krov.core import pagecache, ratelimit, translated, undo
from krov.core.search import searched
from krov.core.services import interface_languages, serbian_twin, slug_text, unique_slug
from krov.events.models import Event, EventText, Rsvp, Slot, Venue, VenueTranslation

CHECKIN_SALT = "krov.events.checkin"


class EventError(Exception):
    """Something about an event that cannot be done; the message is for people."""


class AuditKind:
    """The events app's kinds of audit event (krov.core.audit): changes to the venues every
    organiser's events share, and to their texts in other languages. Their labels for the
    audit log page belong with the others in `AuditEvent.Kind` (krov.core.models)."""

    VENUE_ADDED = "venue_added"
    VENUE_CHANGED = "venue_changed"
    VENUE_REMOVED = "venue_removed"
    VENUE_TRANSLATION_ADDED = "venue_translation_added"
    VENUE_TRANSLATION_CHANGED = "venue_translation_changed"
    VENUE_TRANSLATION_REMOVED = "venue_translation_removed"


def _audit(kind: str, venue: Venue, *, actor, **detail) -> None:
    """An audit event about `venue` (its id as the target, its own name as a detail, as the
    press watch names its feeds), written in the caller's transaction: a rolled-back change
    leaves none. Which texts changed, never what they say."""
    from krov.core import audit

    audit.record(kind, actor=actor, target=f"venue:{venue.pk}", venue=venue.name, **detail)


def _hash(purpose: str, value: str) -> str:
    return salted_hmac(f"krov.events.{purpose}", value, algorithm="sha256").hexdigest()


def invalidate_public_pages() -> None:
    pagecache.invalidate("events")


# What an event's iCalendar entry shows besides its texts and status: a change to one of
# these is a new revision for calendars (RFC 5545 SEQUENCE).
CALENDAR_FIELDS = frozenset({"starts_at", "ends_at", "venue", "address"})


def _raise_sequence(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
    event.refresh_from_db(fields=["sequence", "updated_at"])


# --- permissions ----------------------------------------------------------------------------


def can_organise(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("accounts.organise_events"))


def can_manage(user, event: Event) -> bool:
    if not can_organise(user):
        return False
    return user.is_superuser or event.organisers.filter(pk=user.pk).exists()


def check_can_manage(user, event: Event) -> None:
    if not can_manage(user, event):
        raise EventError(_("Only the organisers of this event can do this."))


def with_texts(events: QuerySet[Event] | None = None) -> QuerySet[Event]:
    """Events (all, or `events`) with their venue, its translations and their texts (one
    query each, however many events)."""
    events = Event.objects.all() if events is None else events
    return events.select_related("venue").prefetch_related(
        Prefetch("texts", queryset=EventText.objects.all()),
        Prefetch("venue__translations", queryset=VenueTranslation.objects.all()),
    )


# --- venues ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueText:
    """A venue's texts as a page shows them, each with the language it is written in."""

    name: translated.Shown
    address: translated.Shown
    accessibility: translated.Shown


def venues() -> QuerySet[Venue]:
    """Every venue with its translations (two queries, however many venues)."""
    return Venue.objects.prefetch_related(
        Prefetch("translations", queryset=VenueTranslation.objects.all())
    )


def listed_venues() -> QuerySet[Venue]:
    """Venues by name, each with its translations and `events`, how many events are at it
    (two queries however many)."""
    return venues().annotate(events=Count("event")).order_by("name", "pk")


def find_venues(query: str = "") -> QuerySet[Venue] | list[Venue]:
    """The venues page's venues (`listed_venues`): all of them, as a queryset to page
    through, or those one of whose names or addresses, in any language, contains `query`
    in either Serbian script and any case (both compared as `searched` makes them; a
    city's venues are few, so they are compared here, in the same two queries however
    many)."""
    found = listed_venues()
    wanted = searched(query)
    if not wanted:
        return found

    def texts(venue: Venue) -> list[str]:
        rows = venue.translations.all()
        return [venue.name, venue.address, *(t for row in rows for t in (row.name, row.address))]

    return [venue for venue in found if any(wanted in searched(t) for t in texts(venue))]


def venue_text(venue: Venue, language: str | None = None) -> VenueText:
    """What a page in `language` (default: the active one) shows of `venue`: each text in
    that language when translated, else the venue's own, Serbian in the page's script
    (krov.core.translated.pick). Reads prefetched translations (`venues`, `with_texts`)."""
    rows = list(venue.translations.all())

    def field(name: str) -> translated.Shown:
        texts = {row.language: getattr(row, name) for row in rows}
        return translated.pick(getattr(venue, name), venue.language, texts, language)

    return VenueText(field("name"), field("address"), field("accessibility"))


def can_edit_venues(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("events.change_venue"))


def _check_can_edit_venues(user) -> None:
    if not can_edit_venues(user):
        raise EventError(_("Only those who manage venues can translate them."))


# A venue's own fields, as the admin edits them (`save_venue`).
VENUE_FIELDS = ("name", "language", "address", "osm_url", "accessibility", "capacity", "time_zone")
# What an event's calendar entry (iCal LOCATION) shows of its venue, in each language: a
# change to one of these is a new revision of the entries (`venue_changed`). Of the venue's
# own fields, its `language` too: it decides the script its texts are shown in and whether
# a translation stands in for them.
VENUE_LOCATION_TEXTS = frozenset({"name", "address"})
VENUE_LOCATION_FIELDS = VENUE_LOCATION_TEXTS | {"language"}

# The texts a venue has in each language, and how long each may be (name and address: as
# their columns hold; accessibility notes: a page of text).
VENUE_TEXT_FIELDS = ("name", "address", "accessibility")
VENUE_TEXT_LIMITS = {
    "name": VenueTranslation._meta.get_field("name").max_length or 120,
    "address": VenueTranslation._meta.get_field("address").max_length or 200,
    "accessibility": 5000,
}


class VenueTextError(EventError):
    """A venue's texts in one language that cannot be saved: `language` says which, `field`
    which text (None: the language itself), so that a form shows the message beside it."""

    def __init__(self, message: str, *, language: str, field: str | None = None) -> None:
        super().__init__(message)
        self.language = language
        self.field = field


def check_venue_translation(venue: Venue, language: str) -> None:
    """Raise VenueTextError unless `venue` may have a translation in `language`: one of the
    site's languages, Serbian as "sr" (Latin is derived), not the venue's own."""
    if language not in dict(translated.translatable_languages()):
        raise VenueTextError(_("Unknown language."), language=language)
    if translated.same_language(language, venue.language):
        raise VenueTextError(
            _("The venue is written in this language already: change its own texts instead."),
            language=language,
        )


def check_venue_texts(venue: Venue, language: str, texts: Mapping[str, str]) -> dict[str, str]:
    """`texts` ({"name", "address", "accessibility"}; a missing one is empty) as `venue`'s
    translation in `language` stores them, trimmed; raise VenueTextError when they cannot
    be: a language the venue may not have (`check_venue_translation`), no name, or a text
    longer than VENUE_TEXT_LIMITS. All empty: no translation (see `translate_venue`)."""
    check_venue_translation(venue, language)
    clean = {field: (texts.get(field) or "").strip() for field in VENUE_TEXT_FIELDS}
    for field, limit in VENUE_TEXT_LIMITS.items():
        if len(clean[field]) > limit:
            raise VenueTextError(
                _("At most %(limit)s characters, please (this has %(length)s).")
                % {"limit": limit, "length": len(clean[field])},
                language=language,
                field=field,
            )
    if any(clean.values()) and not clean["name"]:
        raise VenueTextError(
            _("Please give the venue's name in this language."), language=language, field="name"
        )
    return clean


@transaction.atomic
def translate_venue(venue: Venue, *, actor, texts: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Set `venue`'s texts in other languages at once: {language: {"name", "address",
    "accessibility"}}. All of a language's texts empty removes its translation; an empty
    address or accessibility note alone means "as in the original". Nothing is saved when
    one language is refused (EventError, VenueTextError). Every public page of events is
    refreshed once this commits; calendar entries get a new revision only where what their
    LOCATION shows (name, address) changed (`venue_changed`). Each language added, changed
    or removed is one audit event (`AuditKind`: the language and, for a change, which texts;
    never what they say). Returns the languages changed.

    The one way venue translations are written: the venues page and the admin's inline."""
    _check_can_edit_venues(actor)
    # The venue's row first: two first saves of one language at once would both find no
    # translation and the second would break the unique constraint (a 500); locked, the
    # second waits and finds the first's row.
    Venue.objects.select_for_update().filter(pk=venue.pk).first()
    current = {
        row.language: row
        for row in VenueTranslation.objects.select_for_update().filter(venue=venue)
    }
    changed: list[str] = []
    location: list[str] = []
    for language, given in texts.items():
        row = current.get(language)
        if not any((given.get(field) or "").strip() for field in VENUE_TEXT_FIELDS):
            # Nothing in this language: no translation. A row left in a language the venue
            # may no longer have (its own, since it changed) can be removed too.
            if row is not None:
                row.delete()
                _audit(AuditKind.VENUE_TRANSLATION_REMOVED, venue, actor=actor, language=language)
                changed.append(language)
                location.append(language)
            continue
        clean = check_venue_texts(venue, language, given)
        if row is None:
            VenueTranslation.objects.create(venue=venue, language=language, **clean)
            _audit(AuditKind.VENUE_TRANSLATION_ADDED, venue, actor=actor, language=language)
            changed.append(language)
            location.append(language)
            continue
        differ = [field for field in VENUE_TEXT_FIELDS if getattr(row, field) != clean[field]]
        if not differ:
            continue
        for field in differ:
            setattr(row, field, clean[field])
        row.save(update_fields=differ)
        _audit(
            AuditKind.VENUE_TRANSLATION_CHANGED,
            venue,
            actor=actor,
            language=language,
            fields=differ,
        )
        changed.append(language)
        if VENUE_LOCATION_TEXTS & set(differ):
            location.append(language)
    if changed:
        venue_changed(venue, languages=location, calendar=bool(location))
    return changed


def set_venue_translation(
    venue: Venue,
    *,
    actor,
    language: str,
    name: str,
    address: str = "",
    accessibility: str = "",
) -> VenueTranslation:
    """Write `venue`'s texts in one `language` (`translate_venue`; here a name is needed,
    since an empty one would remove the translation)."""
    _check_can_edit_venues(actor)
    if not name.strip():
        raise VenueTextError(
            _("Please give the venue's name in this language."), language=language, field="name"
        )
    texts = {"name": name, "address": address, "accessibility": accessibility}
    translate_venue(venue, actor=actor, texts={language: texts})
    return VenueTranslation.objects.get(venue=venue, language=language)


def remove_venue_translation(venue: Venue, *, actor, language: str) -> bool:
    """Drop `venue`'s translation in `language` (`translate_venue` with no texts); pages
    show the original again."""
    return bool(translate_venue(venue, actor=actor, texts={language: {}}))


@transaction.atomic
def save_venue(venue: Venue, *, actor, fields: Iterable[str] | None = None) -> list[str]:
    """Save `venue`'s own fields as set on it: all of them for a new venue, else those of
    `fields` (default: VENUE_FIELDS) whose values differ from the stored ones. Each save
    that changes something is one audit event (AuditKind.VENUE_ADDED, VENUE_CHANGED with
    the names of the fields, never their values); after a change every public page of
    events is refreshed once this commits, and the calendar entries of the events held
    there get a new revision only when what their LOCATION shows changed
    (VENUE_LOCATION_FIELDS, `venue_changed`). Refused (EventError) to those who may not
    add or change venues, and for values the model does not take. Returns the fields
    saved.

    The one way a venue's own fields are written: the admin's form calls it."""
    wanted = VENUE_FIELDS if fields is None else [f for f in VENUE_FIELDS if f in set(fields)]
    if venue._state.adding:
        if not (actor.is_authenticated and actor.has_perm("events.add_venue")):
            raise EventError(_("Only those who manage venues can add them."))
        _check_venue_fields(venue, VENUE_FIELDS)
        venue.save(force_insert=True)
        _audit(AuditKind.VENUE_ADDED, venue, actor=actor)
        return list(VENUE_FIELDS)
    if not can_edit_venues(actor):
        raise EventError(_("Only those who manage venues can change them."))
    stored = Venue.objects.select_for_update().filter(pk=venue.pk).first()
    if stored is None:
        raise EventError(_("This venue is no longer there."))
    changed = [field for field in wanted if getattr(stored, field) != getattr(venue, field)]
    if not changed:
        return []
    _check_venue_fields(venue, changed)
    venue.save(update_fields=changed)
    _audit(AuditKind.VENUE_CHANGED, venue, actor=actor, fields=changed)
    venue_changed(venue, calendar=bool(VENUE_LOCATION_FIELDS & set(changed)))
    return changed


def _check_venue_fields(venue: Venue, fields: Iterable[str]) -> None:
    """Raise EventError unless the model takes `venue`'s values of `fields` (lengths,
    choices, a link that is one)."""
    from django.core.exceptions import ValidationError

    others = [field.name for field in Venue._meta.fields if field.name not in set(fields)]
    try:
        venue.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise EventError(" ".join(error.messages)) from None


@transaction.atomic
def delete_venue(venue: Venue, *, actor) -> bool:
    """Remove `venue` and its translations: one audit event (AuditKind.VENUE_REMOVED), the
    public pages refreshed once this commits. Refused (EventError) while events are held
    there: they keep their venue. False when it was gone already."""
    if not (actor.is_authenticated and actor.has_perm("events.delete_venue")):
        raise EventError(_("Only those who manage venues can remove them."))
    locked = Venue.objects.select_for_update().filter(pk=venue.pk).first()
    if locked is None:
        return False
    if Event.objects.filter(venue=locked).exists():
        raise EventError(_("Events are held at this venue: it cannot be removed."))
    _audit(AuditKind.VENUE_REMOVED, locked, actor=actor)
    locked.delete()
    invalidate_public_pages()
    return True


def venue_changed(
    venue: Venue, *, languages: list[str] | None = None, calendar: bool = True
) -> None:
    """After `venue` changed (its own fields, or its translations in `languages`): every
    public page of events is refreshed once the change commits, and, unless the change is
    nothing a calendar shows (`calendar`), the events whose entry shows the venue in a
    changed language get a new revision (iCal LOCATION is in the event's own language, like
    its SUMMARY)."""
    invalidate_public_pages()
    if not calendar:
        return
    at_venue = Event.objects.filter(venue=venue)
    if languages is not None:
        shown_in = set()
        for language in languages:
            shown_in |= {"sr", "sr-latn"} if language == "sr" else {language}
        at_venue = at_venue.filter(original_language__in=shown_in)
    at_venue.update(sequence=F("sequence") + 1, updated_at=timezone.now())


def organised_by(user) -> QuerySet[Event]:
    """The events `user` organises, with their venue and texts."""
    return with_texts().filter(organisers=user)


def upcoming_public(limit: int) -> list[Event]:
    """The next public events not over yet, soonest first (the home page's)."""
    return list(
        with_texts(Event.objects.public())
        .filter(ends_at__gte=timezone.now())
        .order_by("starts_at")[:limit]
    )


def next_organised(user, limit: int = 3) -> list[Event]:
    """For the organiser's home: the next `limit` events `user` organises that are neither
    over nor cancelled, soonest first; drafts too (they wait to be published). Two queries
    however many events there are; each event's `going_count` is who is coming."""
    return list(
        organised_by(user)
        .filter(ends_at__gt=timezone.now())
        .exclude(status=Event.Status.CANCELLED)
        .order_by("starts_at", "id")[:limit]
    )


def visible_to(user, event: Event) -> bool:
    """Drafts only to organisers; members-only to members; unlisted to anyone with the link."""
    if event.status == Event.Status.DRAFT:
        return can_manage(user, event)
    if event.visibility == Event.Visibility.MEMBERS:
        return bool(user.is_authenticated and user.has_perm("accounts.use_member_area"))
    return True


# --- events and texts -----------------------------------------------------------------------


def _check(starts_at: datetime, ends_at: datetime, capacity: int | None) -> None:
    if ends_at <= starts_at:
        raise EventError(_("The end must be after the start."))
    if capacity is not None and capacity < 1:
        raise EventError(_("The capacity must be at least 1, or empty for no limit."))


@transaction.atomic
def create_event(
    *,
    actor,
    title: str,
    language: str,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = Event.Kind.OTHER,
    slug: str = "",
    summary: str = "",
    description: str = "",
    venue: Venue | None = None,
    address: str = "",
    capacity: int | None = None,
    rsvp_mode: str = Event.RSVP.OPEN,
    visibility: str = Event.Visibility.PUBLIC,
) -> Event:
    if not can_organise(actor):
        raise EventError(_("Only organisers can create events."))
    _check(starts_at, ends_at, capacity)
    if language not in interface_languages():
        raise EventError(_("Unknown language."))
    base = slug_text(slug or title, language=language) or "event"
    event = Event.objects.create(
        slug=_dated_slug(base, starts_at),
        kind=kind,
        original_language=language,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=venue.time_zone if venue else settings.TIME_ZONE,
        venue=venue,
        address=address,
        capacity=capacity,
        rsvp_mode=rsvp_mode,
        visibility=visibility,
    )
    event.organisers.add(actor)
    set_text(
        event, actor=actor, language=language, title=title, summary=summary, description=description
    )
    return event


@transaction.atomic
def update_event(event: Event, *, actor, **changes) -> Event:
    check_can_manage(actor, event)
    allowed = {
        "kind",
        "starts_at",
        "ends_at",
        "venue",
        "address",
        "capacity",
        "rsvp_mode",
        "visibility",
        "queue_open",
        "queue_closes_at",
        "queue_max_slots",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise EventError(f"cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(event, name, value)
    _check(event.starts_at, event.ends_at, event.capacity)
    event.updated_at = timezone.now()
    event.save(update_fields=[*changes, "updated_at"])
    if CALENDAR_FIELDS & set(changes):
        _raise_sequence(event)
    invalidate_public_pages()
    return event


@transaction.atomic
def set_text(
    event: Event, *, actor, language: str, title: str, summary: str = "", description: str = ""
) -> EventText:
    """Write the text in `language`. Serbian is written once: Cyrillic yields Latin and Latin
    yields Cyrillic, kept in step on every edit."""
    check_can_manage(actor, event)
    title = title.strip()
    if not title:
        raise EventError(_("Please give the event a title."))
    if language not in interface_languages():
        raise EventError(_("Unknown language."))
    fields = {"title": title[:160], "summary": summary.strip()[:300], "description": description}
    text, _created = EventText.objects.update_or_create(
        event=event, language=language, defaults={**fields, "derived": False}
    )
    twin = serbian_twin(language)
    if twin:
        other, convert = twin
        EventText.objects.update_or_create(
            event=event,
            language=other,
            defaults={
                "title": convert(fields["title"])[:160],
                "summary": convert(fields["summary"])[:300],
                "description": convert(fields["description"]),
                "derived": True,
            },
        )
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now())
    _raise_sequence(event)
    invalidate_public_pages()
    return text


@transaction.atomic
def publish(event: Event, *, actor) -> None:
    check_can_manage(actor, event)
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("A cancelled event cannot be published again."))
    Event.objects.filter(pk=event.pk).update(
        status=Event.Status.PUBLISHED, updated_at=timezone.now()
    )
    event.status = Event.Status.PUBLISHED
    invalidate_public_pages()


@transaction.atomic
def _to_tell(event: Event) -> list[Rsvp]:
    return [
        rsvp
        for rsvp in event.rsvps.exclude(status=Rsvp.Status.CANCELLED)
        if is_email(rsvp.contact or "")
    ]


@transaction.atomic
def cancel(event: Event, *, actor, notice: str = "") -> int:
    """Cancel at once (pages and calendars show it), and tell everyone who left an email
    once the organiser can no longer undo it (`undo_cancel`, `tell_cancelled`). Returns how
    many will be told; 0 for an event that is cancelled already."""
    check_can_manage(actor, event)
    notice = (notice or "").strip()[:2000]
    now = timezone.now()
    updated = (
        Event.objects.filter(pk=event.pk)
        .exclude(status=Event.Status.CANCELLED)
        .update(
            status=Event.Status.CANCELLED,
            updated_at=now,
            cancel_notice=notice,
            cancelled_at=now,
            cancel_told_at=None,
        )
    )
    if not updated:
        return 0
    event.status = Event.Status.CANCELLED
    _raise_sequence(event)
    invalidate_public_pages()
    from krov.events import tasks

    undo.tell_later(tasks.tell_cancelled_attendees, event.pk)
    return len(_to_tell(event))


@transaction.atomic
def undo_cancel(data: dict, *, actor) -> str:
    """krov.core.undo: a cancellation made a moment ago is taken back, as long as nobody
    has been told (`data`: {"event": id, "status": the status before}). Calendars that
    fetched the cancellation meanwhile get the event back with a higher SEQUENCE."""
    pk = data.get("event")
    event = Event.objects.filter(pk=pk if isinstance(pk, int) else 0).first()
    if event is None or not can_manage(actor, event):
        raise undo.UndoError(_("Only this event's organisers can do this."))
    before = data.get("status")
    if before not in {Event.Status.DRAFT, Event.Status.PUBLISHED}:
        before = Event.Status.PUBLISHED
    undone = Event.objects.filter(
        pk=event.pk, status=Event.Status.CANCELLED, cancel_told_at__isnull=True
    ).update(
        status=before,
        cancel_notice="",
        cancelled_at=None,
        updated_at=timezone.now(),
    )
    if not undone:
        raise undo.UndoError(_("Too late to undo: the attendees were already told."))
    _raise_sequence(event)
    invalidate_public_pages()
    return _("The event is back; nobody was told it was cancelled.")


@transaction.atomic
def tell_cancelled(event_id: int | None = None, *, now=None) -> int:
    """Email the attendees of cancellations whose undo window has passed (one event, or
    every one due); idempotent: each event is claimed by setting `cancel_told_at` before
    its mails are queued, in one transaction. Returns how many people were told."""
    due = Event.objects.filter(status=Event.Status.CANCELLED)
    if event_id is not None:
        due = due.filter(pk=event_id)

    def tell(event: Event) -> int:
        attendees = _to_tell(event)
        for rsvp in attendees:
            _email_later(rsvp, "cancelled")
        return len(attendees)

    return undo.tell_due(due, told="cancel_told_at", done_at="cancelled_at", tell=tell, now=now)


# An event's slug ends in its date, perhaps with the random suffix of a taken one.
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}(?:-[0-9a-f]{4})?$")


def _dated_slug(base: str, starts_at: datetime) -> str:
    return unique_slug(
        Event,
        f"{base} {timezone.localtime(starts_at):%Y-%m-%d}",
        fallback="event",
        max_length=80,
        routes=("events:detail",),
    )


@transaction.atomic
def repeat(event: Event, *, actor, every: str, count: int) -> list[Event]:
    """Copies of `event` every week or month, `count` more times, as a series."""
    check_can_manage(actor, event)
    if every not in {"weekly", "monthly"} or not 1 <= count <= 52:
        raise EventError(_("Repeat weekly or monthly, 1 to 52 times."))
    created = []
    for index in range(1, count + 1):
        if every == "weekly":
            shift = timedelta(weeks=index)
            starts, ends = event.starts_at + shift, event.ends_at + shift
        else:
            starts = _add_months(event.starts_at, index)
            ends = starts + (event.ends_at - event.starts_at)
        copy = Event.objects.create(
            # The series' name with the copy's date; unique however often it is repeated.
            slug=_dated_slug(_DATED.sub("", event.slug), starts),
            kind=event.kind,
            original_language=event.original_language,
            starts_at=starts,
            ends_at=ends,
            time_zone=event.time_zone,
            venue=event.venue,
            address=event.address,
            capacity=event.capacity,
            rsvp_mode=event.rsvp_mode,
            visibility=event.visibility,
            status=event.status,
            series=event,
            queue_max_slots=event.queue_max_slots,
        )
        copy.organisers.set(event.organisers.all())
        EventText.objects.bulk_create(
            EventText(
                event=copy,
                language=t.language,
                title=t.title,
                summary=t.summary,
                description=t.description,
                derived=t.derived,
            )
            for t in event.texts.all()
        )
        created.append(copy)
    invalidate_public_pages()
    return created


def _add_months(moment: datetime, months: int) -> datetime:
    """The same weekday-of-month rule pretix uses would be nicer; the same day of month,
    clamped to the month's length, is what people expect for "monthly"."""
    import calendar

    local = timezone.localtime(moment)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


@transaction.atomic
def announce(event: Event, *, actor, url: str) -> bool:
    """Queue a post of the event to the Telegram channel."""
    from krov.telegram import services as telegram

    check_can_manage(actor, event)
    if event.status != Event.Status.PUBLISHED or event.visibility != Event.Visibility.PUBLIC:
        raise EventError(_("Only published public events can be announced."))
    text = event.text(event.original_language)
    # The channel reads the event's own language: its date is written that language's way.
    with translation.override(event.original_language):
        when = date_format(timezone.localtime(event.starts_at), "DATETIME_FORMAT")
    place = venue_text(event.venue, event.original_language).name.text if event.venue else ""
    place = place or event.address
    posted = telegram.post_to_channel(
        title=text.title if text else event.slug,
        text=f"{when} · {place}\n\n{text.summary if text else ''}".strip(),
        url=url,
    )
    if posted is None:
        raise EventError(_("No Telegram channel is configured."))
    Event.objects.filter(pk=event.pk).update(announced_at=timezone.now())
    return True


# --- RSVP -------------------------------------------------------------------------------------


@dataclass
class RsvpResult:
    rsvp: Rsvp
    # The secret link's token; None when it goes to the person's email address instead.
    token: str | None


def _open_for_rsvp(event: Event) -> None:
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("This event is cancelled."))
    if event.status != Event.Status.PUBLISHED:
        raise EventError(_("This event is not open yet."))
    if event.ends_at <= timezone.now():
        raise EventError(_("This event is over."))
    if event.rsvp_mode not in {Event.RSVP.OPEN, Event.RSVP.REQUIRED}:
        raise EventError(_("This event takes no names."))


def is_email(contact: str) -> bool:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(contact)
    except ValidationError:
        return False
    return True


def rsvp(event: Event, *, name: str, contact: str = "") -> RsvpResult:
    """Put a person on the list, or on the waiting list when the event is full. Two people
    asking for the last seat queue on the event row: exactly one gets it.

    Nobody can find out whether an address is on the list: with an email address the
    answer is always "the link is in your mail", and the address's owner gets the link (or,
    when they were on the list already, a mail that says so, without a link). Names are not
    identities: two people may both be "Ana", and a name alone never reveals that someone
    else used it.
    """
    name, contact = name.strip(), contact.strip()
    if not name or len(name) > 60:
        raise EventError(_("Please give a name or pseudonym of at most 60 characters."))
    if len(contact) > 200:
        raise EventError(_("The contact is too long."))
    by_mail = is_email(contact)
    token = secrets.token_urlsafe(24)
    person = _hash(f"person-{event.pk}", contact.casefold() if by_mail else secrets.token_hex(16))
    try:
        with transaction.atomic():
            event = Event.objects.select_for_update().get(pk=event.pk)
            _open_for_rsvp(event)
            existing = (
                event.rsvps.filter(person_key=person).exclude(status=Rsvp.Status.CANCELLED).first()
            )
            if existing is not None:
                # Told, without a new link: someone who typed their address must not be
                # able to break the link they have, nor get a working one; and only a few
                # times a day, so the form cannot be used to flood their mailbox.
                if ratelimit.hit("rsvp-already", person, limit=2, window=86400):
                    _email_later(existing, "already")
                return RsvpResult(existing, None)
            full = event.capacity is not None and event.going_count >= event.capacity
            if by_mail:
                # Nothing public moves until the mailed link is opened (confirm_rsvp): the
                # count must not tell a new address from one already on the list.
                status = Rsvp.Status.UNCONFIRMED
            else:
                status = Rsvp.Status.WAITING if full else Rsvp.Status.GOING
            created = Rsvp.objects.create(
                event=event,
                checkin_code=_free_checkin_code(event),
                name=name,
                contact=contact,
                person_key=person,
                # By mail: the worker makes the link when it writes the mail.
                token_hash=None if by_mail else _hash("rsvp-token", token),
                status=status,
                language=(translation.get_language() or "")[:8],
            )
            if status == Rsvp.Status.GOING:
                Event.objects.filter(pk=event.pk).update(going_count=F("going_count") + 1)
            if by_mail:
                _email_later(created, "link")
    except IntegrityError:  # the same address twice at the same moment: the first one wins
        first = event.rsvps.filter(person_key=person).exclude(status=Rsvp.Status.CANCELLED).first()
        if first is None:
            raise EventError(_("Please try again.")) from None
        transaction.on_commit(lambda: _queue_email(first.pk, "already"))
        return RsvpResult(first, None)
    transaction.on_commit(invalidate_public_pages)
    return RsvpResult(created, None if by_mail else token)


def confirm_rsvp(rsvp_obj: Rsvp) -> Rsvp:
    """The mailed link was followed and confirmed: the RSVP takes a place, or a place on
    the waiting list when the event has filled up meanwhile."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=rsvp_obj.event_id)
        current = Rsvp.objects.get(pk=rsvp_obj.pk)
        if current.status != Rsvp.Status.UNCONFIRMED:
            return current
        _open_for_rsvp(event)
        full = event.capacity is not None and event.going_count >= event.capacity
        current.status = Rsvp.Status.WAITING if full else Rsvp.Status.GOING
        Rsvp.objects.filter(pk=current.pk).update(status=current.status)
        if not full:
            Event.objects.filter(pk=event.pk).update(going_count=F("going_count") + 1)
    invalidate_public_pages()
    return current


def new_rsvp_link(rsvp_obj: Rsvp) -> str:
    """A fresh secret link for `rsvp_obj` (the old one stops working); for the mail only."""
    token = secrets.token_urlsafe(24)
    Rsvp.objects.filter(pk=rsvp_obj.pk).update(token_hash=_hash("rsvp-token", token))
    from django.urls import reverse

    with translation.override(rsvp_obj.language or settings.LANGUAGE_CODE):
        path = reverse("events:rsvp", args=[token])
    return settings.KROV_SITE_URL.rstrip("/") + path


def rsvp_for_token(token: str) -> Rsvp | None:
    if not token or len(token) > 100:
        return None
    return (
        Rsvp.objects.select_related("event").filter(token_hash=_hash("rsvp-token", token)).first()
    )


def cancel_rsvp(rsvp_obj: Rsvp) -> Rsvp | None:
    """Cancel; the first on the waiting list moves up and is told. Returns who moved up."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=rsvp_obj.event_id)
        current = Rsvp.objects.get(pk=rsvp_obj.pk)
        if current.status == Rsvp.Status.CANCELLED:
            return None
        Rsvp.objects.filter(pk=current.pk).update(status=Rsvp.Status.CANCELLED)
        if current.status != Rsvp.Status.GOING:
            return None
        Event.objects.filter(pk=event.pk, going_count__gt=0).update(
            going_count=F("going_count") - 1
        )
        promoted = (
            event.rsvps.filter(status=Rsvp.Status.WAITING).order_by("created_at", "id").first()
        )
        if promoted is not None and event.ends_at > timezone.now():
            Rsvp.objects.filter(pk=promoted.pk).update(status=Rsvp.Status.GOING)
            Event.objects.filter(pk=event.pk).update(going_count=F("going_count") + 1)
            if is_email(promoted.contact or ""):
                _email_later(promoted, "promoted")
    invalidate_public_pages()
    return promoted


def count_me_in(event: Event, *, client_address: str, already_counted: bool) -> int:
    """Count-only mode (protests): "I'm coming", no name kept, no address kept.

    One per person is the browser's own mark (`already_counted`, a cookie the view sets);
    without it, an address counts once an hour at most, under a key that is gone within the
    hour (krov.core.ratelimit). Nothing ties a count to an address beyond that hour.
    """
    if event.rsvp_mode != Event.RSVP.COUNT:
        raise EventError(_("This event takes names; please use the RSVP form."))
    if event.status != Event.Status.PUBLISHED or event.ends_at <= timezone.now():
        raise EventError(_("This event is not open."))
    if not already_counted and ratelimit.for_address(
        "events-count", f"{event.pk}:{client_address}", limit=1, window=3600
    ):
        Event.objects.filter(pk=event.pk).update(going_count=F("going_count") + 1)
        transaction.on_commit(invalidate_public_pages)
    return Event.objects.values_list("going_count", flat=True).get(pk=event.pk)


def attendee_language(rsvp: Rsvp) -> str:
    """What to write to an attendee in: the language of their Krov account when the address
    is one (what they chose in their settings), else the one they used for the RSVP."""
    from django.contrib.auth import get_user_model

    from krov.core import notify

    account = (
        get_user_model().objects.filter(email__iexact=rsvp.contact, is_active=True).first()
        if is_email(rsvp.contact or "")
        else None
    )
    if account is not None:
        return notify.language_of(account)
    return rsvp.language or settings.LANGUAGE_CODE


def _email_later(rsvp: Rsvp, kind: str) -> None:
    """Queue a mail to an attendee: the task gets the RSVP's id, never an address or text."""
    rsvp_id = rsvp.pk
    transaction.on_commit(lambda: _queue_email(rsvp_id, kind))


def _queue_email(rsvp_id: int, kind: str) -> None:
    from krov.events import tasks

    tasks.email_attendee(rsvp_id, kind)


def email_attendee(address: str, kind: str, event: Event, notice: str, link: str = "") -> None:
    text = event.text()
    title = text.title if text else event.slug
    link = link or settings.KROV_SITE_URL.rstrip("/") + event.get_absolute_url()
    subjects = {
        "link": _("Your place: %(title)s"),
        "already": _("You are on the list: %(title)s"),
        "cancelled": _("Cancelled: %(title)s"),
        "promoted": _("You have a place: %(title)s"),
        "reminder": _("Tomorrow: %(title)s"),
    }
    bodies = {
        "link": _(
            "Open this link and confirm to take your place. It then shows your check-in code "
            "and lets you cancel; keep it to yourself. If you did not ask for this, ignore "
            "this mail: without confirmation nothing happens."
        ),
        "already": _(
            "Someone (perhaps you) asked again for a place with this address. You are on the "
            "list already: the link to your place is in the first mail we sent. If you did "
            "not ask, ignore this mail; nothing has changed."
        ),
        "cancelled": _("The event has been cancelled."),
        "promoted": _(
            "A place became free and it is yours now. If you cannot come, please cancel."
        ),
        "reminder": _("A reminder: the event starts in about 24 hours."),
    }
    body = str(bodies[kind]) + (f"\n\n{notice}" if notice else "") + f"\n\n{link}"
    send_mail(subjects[kind] % {"title": title}, body, None, [address])


# --- check-in and the door ------------------------------------------------------------------


# Eight of these make a code: no 0/O/D/Q rounds, no 1/I/L sticks, no 2/Z, 5/S, 8/B, so a
# code read out loud or off a cracked screen is typed right (23^8 ≈ 7.8·10^10 codes).
CHECKIN_ALPHABET = "ACEFGHJKMNPRTUVWXY34679"
CHECKIN_LENGTH = 8
_NOT_IN_A_CODE = re.compile(r"[\s\-\u2010-\u2015\u2212_.·/]+")


def new_checkin_code() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_LENGTH))


def _free_checkin_code(event: Event) -> str:
    """A code no other RSVP of `event` has (the caller holds the event row's lock)."""
    while True:
        code = new_checkin_code()
        if not event.rsvps.filter(checkin_code=code).exists():
            return code


def normalise_checkin_code(typed: str) -> str:
    """What was typed at the door as it is stored: case, spaces and dashes do not matter."""
    return _NOT_IN_A_CODE.sub("", typed).upper()


def checkin_code(rsvp_obj: Rsvp) -> str:
    """What the ticket page shows and its QR code holds: the short code, or, for an RSVP
    that has none, the RSVP signed (which the door accepts too)."""
    if rsvp_obj.checkin_code:
        return rsvp_obj.checkin_code_display
    return signing.dumps(
        [rsvp_obj.event_id, str(rsvp_obj.public_id)], salt=CHECKIN_SALT, compress=True
    )


def _rsvp_for_code(event: Event, typed: str) -> Rsvp:
    short = normalise_checkin_code(typed[:500])
    if not short:
        raise EventError(_("Type the attendee's code, or scan it."))
    if len(short) == CHECKIN_LENGTH and set(short) <= set(CHECKIN_ALPHABET):
        found = event.rsvps.filter(checkin_code=short).first()
        if found is not None:
            return found
        if Rsvp.objects.filter(checkin_code=short).exists():
            raise EventError(_("This code is for another event."))
        raise EventError(
            _("Nobody has the code %(code)s for this event: check it letter by letter.")
            % {"code": f"{short[:4]}-{short[4:]}"}
        )
    # A signed code: what QR codes held before short codes.
    try:
        event_id, public_id = signing.loads(typed.strip(), salt=CHECKIN_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise EventError(
            _("This is not a valid code: a code has eight letters and digits, like %(example)s.")
            % {"example": "KXR7-PM4C"}
        ) from None
    if event_id != event.pk:
        raise EventError(_("This code is for another event."))
    found = event.rsvps.filter(public_id=public_id).first()
    if found is None:
        raise EventError(_("This code is for another event."))
    return found


@dataclass
class CheckIn:
    rsvp: Rsvp
    first: bool
    at: datetime


@transaction.atomic
def check_in(event: Event, *, actor, code: str = "", rsvp_obj: Rsvp | None = None) -> CheckIn:
    check_can_manage(actor, event)
    if rsvp_obj is None:
        rsvp_obj = _rsvp_for_code(event, code)
    elif rsvp_obj.event_id != event.pk:
        raise EventError(_("This code is for another event."))
    if rsvp_obj.status == Rsvp.Status.CANCELLED:
        raise EventError(_("This RSVP was cancelled."))
    # Only a held place gets in by its code: the door says why not, in words staff can
    # repeat to the person (who may still come in if the organisers have room).
    if rsvp_obj.status == Rsvp.Status.WAITING:
        raise EventError(_("This person is on the waiting list: no place was freed for them."))
    if rsvp_obj.status == Rsvp.Status.UNCONFIRMED:
        raise EventError(_("This RSVP was never confirmed by its email link: it holds no place."))
    now = timezone.now()
    first = bool(
        Rsvp.objects.filter(pk=rsvp_obj.pk, checked_in_at__isnull=True).update(checked_in_at=now)
    )
    rsvp_obj.refresh_from_db()
    return CheckIn(rsvp_obj, first, rsvp_obj.checked_in_at or now)


def door(event: Event, *, actor, delta: int) -> int:
    """+1 / −1 from any number of phones at once; never below zero."""
    check_can_manage(actor, event)
    if delta > 0:
        Event.objects.filter(pk=event.pk).update(door_count=F("door_count") + 1)
    elif delta < 0:
        Event.objects.filter(pk=event.pk, door_count__gt=0).update(door_count=F("door_count") - 1)
    return Event.objects.values_list("door_count", flat=True).get(pk=event.pk)


# --- the open-mic queue -----------------------------------------------------------------------


def live_cache_key(slug: str) -> str:
    return f"events:live:{slug}"


def _bump(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(queue_version=F("queue_version") + 1)
    # The live page's 304 check reads the version from the cache; drop it once committed.
    transaction.on_commit(lambda: cache.delete(live_cache_key(event.slug)))


def sign_up(
    event: Event,
    *,
    stage_name: str,
    act: str = "",
    language: str = "",
    minutes: int = 5,
    person_key: str = "",
    actor=None,
) -> Slot:
    """A performer joins the queue; an organiser (`actor`) may add anyone, any number."""
    stage_name = stage_name.strip()
    if not stage_name or len(stage_name) > 60:
        raise EventError(_("Please give a stage name of at most 60 characters."))
    if not 1 <= minutes <= 60:
        raise EventError(_("A slot lasts between 1 and 60 minutes."))
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        organiser = actor is not None and can_manage(actor, event)
        if event.kind != Event.Kind.OPEN_MIC:
            raise EventError(_("This event has no performer queue."))
        if event.status != Event.Status.PUBLISHED and not organiser:
            raise EventError(_("This event is not open."))
        if not organiser:
            if not event.queue_open or (
                event.queue_closes_at and event.queue_closes_at <= timezone.now()
            ):
                raise EventError(_("Sign-up for performers is closed."))
            active = event.slots.exclude(status=Slot.Status.SKIPPED)
            if event.queue_max_slots is not None and active.count() >= event.queue_max_slots:
                raise EventError(_("All slots are taken."))
            hashed = _hash(f"performer-{event.pk}", person_key) if person_key else ""
            if hashed and active.filter(person_key=hashed).exists():
                raise EventError(_("You already have a slot; ask the organiser for another."))
        else:
            hashed = ""
        last = event.slots.aggregate(top=Max("position"))["top"] or 0
        slot = Slot.objects.create(
            event=event,
            stage_name=stage_name,
            act=act.strip()[:120],
            language=language.strip()[:30],
            minutes=minutes,
            position=last + 1,
            person_key=hashed,
        )
        _bump(event)
    return slot


@transaction.atomic
def move_slot(slot: Slot, *, actor, up: bool) -> None:
    event = Event.objects.select_for_update().get(pk=slot.event_id)
    check_can_manage(actor, event)
    waiting = list(event.slots.filter(status=Slot.Status.WAITING).order_by("position", "id"))
    index = next((i for i, s in enumerate(waiting) if s.pk == slot.pk), None)
    if index is None:
        raise EventError(_("Only waiting performers can be moved."))
    other = index - 1 if up else index + 1
    if not 0 <= other < len(waiting):
        return
    waiting[index], waiting[other] = waiting[other], waiting[index]
    for position, item in enumerate(waiting, start=1):
        Slot.objects.filter(pk=item.pk).update(position=position)
    _bump(event)


@transaction.atomic
def set_slot_status(slot: Slot, *, actor, status: str) -> None:
    """On stage, done or skipped. Whoever was on stage is done when the next one goes up."""
    event = Event.objects.select_for_update().get(pk=slot.event_id)
    check_can_manage(actor, event)
    if status not in Slot.Status.values:
        raise EventError(_("Unknown status."))
    if status == Slot.Status.ON_STAGE:
        event.slots.filter(status=Slot.Status.ON_STAGE).exclude(pk=slot.pk).update(
            status=Slot.Status.DONE
        )
    Slot.objects.filter(pk=slot.pk).update(status=status)
    _bump(event)


def live_state(event: Event) -> dict:
    slots = list(
        event.slots.filter(status__in=[Slot.Status.ON_STAGE, Slot.Status.WAITING]).order_by(
            "position", "id"
        )[:20]
    )
    on_stage = next((s for s in slots if s.status == Slot.Status.ON_STAGE), None)
    waiting = [s for s in slots if s.status == Slot.Status.WAITING]
    return {"on_stage": on_stage, "next": waiting[:3]}


# --- housekeeping ---------------------------------------------------------------------------


def purge_attendees(now: datetime | None = None) -> int:
    """Names and contacts go `KROV_EVENT_ATTENDEE_DAYS` after the event; counts stay."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KROV_EVENT_ATTENDEE_DAYS)
    due = list(
        Event.objects.filter(ends_at__lte=cutoff, attendees_purged_at__isnull=True).values_list(
            "pk", flat=True
        )[:500]
    )
    for event_id in due:
        with transaction.atomic():
            Rsvp.objects.filter(event_id=event_id).update(
                name="", contact="", token_hash=None, person_key=Cast("public_id", CharField())
            )
            # Stage names and acts are names too: they go with the attendees.
            Slot.objects.filter(event_id=event_id).update(person_key="", stage_name="", act="")
            Event.objects.filter(pk=event_id).update(attendees_purged_at=now)
    return len(due)


def send_reminders(now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        reminded_at__isnull=True,
        starts_at__gt=now + timedelta(hours=23),
        starts_at__lte=now + timedelta(hours=25),
    )
    count = 0
    for event in due:
        if not Event.objects.filter(pk=event.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue
        for rsvp_obj in event.rsvps.filter(status=Rsvp.Status.GOING):
            if is_email(rsvp_obj.contact or ""):
                _email_later(rsvp_obj, "reminder")
                count += 1
    return count


# --- cover images -----------------------------------------------------------------------------


def set_cover(event: Event, *, actor, upload) -> str:
    """A cover picture, made safe by krov.core.images (resized, no EXIF or location)."""
    from krov.core import images

    check_can_manage(actor, event)
    try:
        data = images.normalise(upload)
    except images.PictureError as error:
        raise EventError(str(error)) from None
    name = images.store(data, prefix=f"events/{event.pk}", replaces=event.cover)
    Event.objects.filter(pk=event.pk).update(cover=name, updated_at=timezone.now())
    invalidate_public_pages()
    return name
