"""Housing: districts, listings with photos, flags and conversations, rent observations and
the rent index computed from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from krov.core.fields import EncryptedTextField

CYRILLIC_LANGUAGES = {"sr", "ru", "uk"}

LANGUAGES_SPOKEN = {
    "sr": _("Serbian"),
    "en": _("English"),
    "ru": _("Russian"),
    "uk": _("Ukrainian"),
    "de": _("German"),
}


class District(models.Model):
    """A municipality of the city: a managed list, named in both scripts."""

    slug = models.SlugField(max_length=40, unique=True)
    name_latin = models.CharField(_("name (Latin)"), max_length=80)
    name_cyrillic = models.CharField(_("name (Cyrillic)"), max_length=80)
    # Other spellings accepted by the CSV import, one per line ("New Belgrade", "Новый Белград").
    aliases = models.TextField(_("other spellings"), blank=True)
    city = models.CharField(_("city"), max_length=80, default="Beograd")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name_latin

    def name(self, language: str | None = None) -> str:
        language = (language or get_language() or "en").lower()
        return self.name_cyrillic if language in CYRILLIC_LANGUAGES else self.name_latin

    @property
    def local_name(self) -> str:
        return self.name()


class ListingQuerySet(models.QuerySet):
    def visible(self) -> ListingQuerySet:
        """What the public list shows: published and not past its date."""
        return self.filter(status=Listing.Status.PUBLISHED, expires_at__gt=timezone.now())


class Listing(models.Model):
    class Kind(models.TextChoices):
        FLAT = "flat", _("Flat")
        ROOM = "room", _("Room")
        HOUSE = "house", _("House")

    class Currency(models.TextChoices):
        EUR = "EUR", "EUR"
        RSD = "RSD", "RSD"

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        RENTED = "rented", _("Rented")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        HIDDEN = "hidden", _("Hidden by moderators")

    poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="housing_listings"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FLAT)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("written in"), max_length=8)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="listings")
    location_hint = models.CharField(_("street or area"), max_length=120, blank=True)
    size_m2 = models.DecimalField(_("size (m²)"), max_digits=7, decimal_places=1)
    rooms = models.DecimalField(_("rooms"), max_digits=3, decimal_places=1)
    rent = models.DecimalField(_("monthly rent"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    # Dinars per euro when the rent was entered; rent_eur = rent converted with it.
    rate = models.DecimalField(max_digits=10, decimal_places=4, default=1)
    rent_eur = models.DecimalField(max_digits=10, decimal_places=2, db_index=True)
    deposit = models.DecimalField(
        _("deposit"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    furnished = models.BooleanField(_("furnished"), default=False)
    pets = models.BooleanField(_("pets allowed"), default=False)
    available_from = models.DateField(_("available from"))
    # ",sr,ru,": simple, indexable membership filters on any database.
    languages = models.CharField(_("languages the landlord speaks"), max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    hidden_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    expiry_reminded_at = models.DateTimeField(null=True, blank=True)
    # When the listing left the board by a decision (rented, withdrawn, hidden).
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "district", "-published_at"])]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("housing:listing", args=[self.pk])

    @property
    def rooms_text(self) -> str:
        """ "1 room", "3 rooms", "1.5 rooms": the page language's plural for a whole number,
        its own form for a fraction (Russian: "1,5 комнаты")."""
        from django.utils.formats import number_format
        from django.utils.translation import ngettext, pgettext

        if self.rooms == self.rooms.to_integral_value():
            count = int(self.rooms)
            return ngettext("%(n)s room", "%(n)s rooms", count) % {"n": count}
        return pgettext("a fraction of rooms, e.g. 1.5", "%(n)s rooms") % {
            "n": number_format(self.rooms, decimal_pos=1)
        }

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.expires_at > timezone.now()

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.expires_at <= timezone.now()

    @property
    def rent_per_m2(self):
        return (self.rent_eur / self.size_m2).quantize(self.rent_eur) if self.size_m2 else None


class ListingPhoto(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image


class Flag(models.Model):
    class Reason(models.TextChoices):
        SCAM = "scam", _("Looks like a scam")
        DUPLICATE = "duplicate", _("Duplicate")
        RENTED = "rented", _("Already rented")
        DISCRIMINATORY = "discriminatory", _("Discriminatory wording")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "reporter"], name="housing_one_flag_each")
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}:{self.reason}"


class Ban(models.Model):
    """A member who may no longer post or write on the housing board."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="housing_ban"
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"ban:{self.user_id}"


class Conversation(models.Model):
    """An interested member writing to a poster about one listing, through Krov only."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="conversations")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="housing_conversations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "member"], name="housing_one_conversation")
        ]

    def __str__(self) -> str:
        return f"conversation:{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("housing:conversation", args=[self.pk])


class ConversationMessage(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message:{self.pk}"


class RentImport(models.Model):
    """One run of `krov import-rents`, with its report."""

    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    rows_read = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    already_present = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.file_name


class RentObservation(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("counted")
        IMPLAUSIBLE = "implausible", _("implausible, not counted")
        EXCLUDED = "excluded", _("excluded by moderators")

    LISTING_SOURCE = "listing"
    SYNTHETIC_SOURCE = "synthetic-demo"

    observed_on = models.DateField()
    month = models.DateField()  # the first day of observed_on's month
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="observations")
    size_m2 = models.DecimalField(max_digits=7, decimal_places=1)
    rent = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Listing.Currency.choices)
    rate = models.DecimalField(max_digits=10, decimal_places=4, default=1)
    rent_eur = models.DecimalField(max_digits=10, decimal_places=2)
    per_m2 = models.DecimalField(max_digits=9, decimal_places=2)
    source = models.CharField(max_length=80, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OK)
    listing = models.OneToOneField(
        Listing, on_delete=models.SET_NULL, null=True, blank=True, related_name="observation"
    )
    # Imported rows: a hash of the row's content and its occurrence in the file, so the
    # same file imported twice adds nothing while identical rows within a file all count.
    fingerprint = models.CharField(max_length=64, unique=True, null=True, blank=True)
    rent_import = models.ForeignKey(RentImport, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["month", "status"]),
            models.Index(fields=["district", "month"]),
            # The rent index counts each cell's rents on the first, and reads its quartiles by
            # walking the others in order (krov.housing.index): per district and month, per
            # month for the city. Partial: only counted rents are walked, and an index without
            # the status column checks one key less at every step.
            models.Index(fields=["status", "month", "district"], name="housing_obs_cell_count"),
            models.Index(
                fields=["month", "district", "rent_eur"],
                condition=models.Q(status="ok"),
                name="housing_obs_ok_rent",
            ),
            models.Index(
                fields=["month", "district", "per_m2"],
                condition=models.Q(status="ok"),
                name="housing_obs_ok_m2",
            ),
            models.Index(
                fields=["month", "rent_eur"],
                condition=models.Q(status="ok"),
                name="housing_obs_ok_city_rent",
            ),
            models.Index(
                fields=["month", "per_m2"],
                condition=models.Q(status="ok"),
                name="housing_obs_ok_city_m2",
            ),
            # Finds the rents that the plausibility bounds flag or clear without reading the
            # table.
            models.Index(fields=["status", "per_m2"], name="housing_obs_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id}:{self.month}:{self.rent_eur}"


class RentIndexCell(models.Model):
    """The index for one district (or the whole city: `area` = "city") and month. Figures are
    stored only for cells with enough observations; smaller cells keep only the fact."""

    CITY = "city"

    area = models.CharField(max_length=40)  # a district slug, or "city"
    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, blank=True)
    month = models.DateField()
    count = models.PositiveIntegerField()
    flagged = models.PositiveIntegerField(default=0)
    suppressed = models.BooleanField(default=False)
    median_rent = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    q1_rent = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    q3_rent = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    median_m2 = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    q1_m2 = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    q3_m2 = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area", "month"]
        constraints = [models.UniqueConstraint(fields=["area", "month"], name="housing_one_cell")]

    def __str__(self) -> str:
        return f"{self.area}:{self.month:%Y-%m}"
