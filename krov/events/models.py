"""Events: venues, events with a text per language, RSVPs with a waiting list and check-in,
the door count, and the open-mic queue. Names and contacts of attendees are encrypted and
purged some days after the event; counts stay."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from krov.accounts.models import language_choices
from krov.core.fields import EncryptedTextField
from krov.core.inputs import validate_time_zone
from krov.core.models import TranslationRow


class Venue(models.Model):
    name = models.CharField(_("name"), max_length=120)
    # The language name, address and accessibility notes are written in: pages mark them
    # with it when it is not the page's, and show Serbian in the page's script.
    language = models.CharField(
        _("written in"), max_length=8, choices=language_choices, default="sr"
    )
    address = models.CharField(_("address"), max_length=200)
    osm_url = models.URLField(_("OpenStreetMap link"), blank=True)
    accessibility = models.TextField(_("accessibility"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Belgrade", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self) -> str:
        return self.name


class VenueTranslation(TranslationRow):
    """A venue's texts in another language than its own, one row per language. Serbian is
    stored once, as "sr", in either script: pages show it in theirs. An empty address or
    accessibility note means "as in the original"."""

    venue = models.ForeignKey(
        Venue, on_delete=models.CASCADE, related_name="translations", verbose_name=_("venue")
    )
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=200, blank=True)
    accessibility = models.TextField(_("accessibility"), blank=True)

    class Meta(TranslationRow.Meta):
        verbose_name = _("venue translation")
        verbose_name_plural = _("venue translations")
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "language"], name="events_venue_translation_unique"
            )
        ]


class EventQuerySet(models.QuerySet):
    def public(self):
        return self.filter(
            status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED],
            visibility=Event.Visibility.PUBLIC,
        )


class Event(models.Model):
    class Kind(models.TextChoices):
        OPEN_MIC = "open_mic", _("Open mic")
        CONCERT = "concert", _("Concert")
        LECTURE = "lecture", _("Lecture")
        FILM = "film", _("Film")
        PROTEST = "protest", _("Protest")
        MEETING = "meeting", _("Meeting")
        OTHER = "other", _("Other")

    class RSVP(models.TextChoices):
        NONE = "none", _("No RSVP")
        OPEN = "open", _("RSVP welcome")
        REQUIRED = "required", _("RSVP required")
        COUNT = "count", _("Count only (no names)")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        MEMBERS = "members", _("Members only")
        UNLISTED = "unlisted", _("Unlisted (link only)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    slug = models.SlugField(_("address name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    original_language = models.CharField(_("original language"), max_length=8, default="sr")
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Belgrade", validators=[validate_time_zone]
    )
    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("venue")
    )
    address = models.CharField(_("address (if not at a venue)"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    rsvp_mode = models.CharField(_("RSVP"), max_length=10, choices=RSVP.choices, default=RSVP.OPEN)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organised_events", verbose_name=_("organisers")
    )
    series = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="occurrences"
    )
    # Counters kept by the services with conditional UPDATEs.
    going_count = models.PositiveIntegerField(default=0)
    door_count = models.PositiveIntegerField(default=0)
    # Open-mic queue.
    queue_open = models.BooleanField(_("performer sign-up open"), default=True)
    queue_closes_at = models.DateTimeField(_("sign-up closes"), null=True, blank=True)
    queue_max_slots = models.PositiveIntegerField(_("maximum slots"), null=True, blank=True)
    queue_version = models.PositiveIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    attendees_purged_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    # A processed JPEG (resized, no EXIF), stored under MEDIA_ROOT; served by events:cover.
    cover = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # RFC 5545 SEQUENCE: raised by the services on every change calendars show (time, place,
    # text, status), so a subscribed calendar replaces its copy.
    sequence = models.PositiveIntegerField(default=0)
    # What the organiser wrote when cancelling; the mails to attendees quote it.
    cancel_notice = models.TextField(blank=True)
    # When it was cancelled, and when its attendees were told: they are told only once the
    # organiser can no longer undo it (services.tell_cancelled), so an undo tells nobody.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_told_at = models.DateTimeField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["status", "visibility", "starts_at"])]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("events:detail", args=[self.slug])

    @property
    def is_past(self) -> bool:
        return self.ends_at < timezone.now()

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.going_count)

    def text(self, language: str | None = None) -> EventText | None:
        """The text in `language` (or the current one), else the original; prefetched."""
        language = (language or get_language() or "en").lower()
        texts = {t.language: t for t in self.texts.all()}
        return (
            texts.get(language)
            or texts.get(self.original_language)
            or next(iter(texts.values()), None)
        )


class EventText(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=160)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description (Markdown)"), blank=True)
    # Serbian Latin derived from Cyrillic (or back): not typed by anyone.
    derived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "language"], name="events_text_unique")
        ]

    def __str__(self) -> str:
        return self.title


class Rsvp(models.Model):
    class Status(models.TextChoices):
        GOING = "going", _("Going")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")
        # An RSVP with an email address holds no place until its mailed link confirms it;
        # until then nothing public (the count) moves.
        UNCONFIRMED = "pending", _("Not confirmed yet")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    name = EncryptedTextField(_("name"))
    contact = EncryptedTextField(_("contact"), blank=True)
    # One RSVP per person and event: a keyed hash of the normalised name or contact.
    person_key = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True, null=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.GOING)
    created_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # What the attendee shows (QR) or reads out at the door: eight characters without
    # look-alikes (krov.events.services.new_checkin_code), unique within the event.
    checkin_code = models.CharField(max_length=8, null=True, blank=True, editable=False)
    # The language the person used: every mail to them is written in it.
    language = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["event", "status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person_key"],
                condition=~models.Q(status="cancelled"),
                name="events_rsvp_one_per_person",
            ),
            models.UniqueConstraint(
                fields=["event", "checkin_code"], name="events_rsvp_one_checkin_code"
            ),
        ]

    def __str__(self) -> str:
        return f"rsvp {self.public_id}"

    @property
    def checkin_code_display(self) -> str:
        """The code in two groups of four, as people read it out ("KXR7-PM4C")."""
        code = self.checkin_code or ""
        return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


class Slot(models.Model):
    """A performer's place in the open-mic queue."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ON_STAGE = "on_stage", _("On stage")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="slots")
    stage_name = models.CharField(_("stage name"), max_length=60)
    act = models.CharField(_("what you perform"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=30, blank=True)
    minutes = models.PositiveSmallIntegerField(_("minutes"), default=5)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    person_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["event", "status", "position"])]

    def __str__(self) -> str:
        return self.stage_name
