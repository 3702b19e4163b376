"""Organisations and newcomer guides, each with a text per language and a revision history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

AREAS = {
    "legal": _("Legal aid"),
    "housing": _("Housing"),
    "psychological": _("Psychological support"),
    "language": _("Language courses"),
    "culture": _("Culture"),
    "protest": _("Protest and advocacy"),
    "humanitarian": _("Humanitarian aid"),
    "jobs": _("Jobs"),
    "documents": _("Documents and visas"),
}
LANGUAGES_SPOKEN = {
    "ru": _("Russian"),
    "uk": _("Ukrainian"),
    "be": _("Belarusian"),
    "sr": _("Serbian"),
    "en": _("English"),
    "de": _("German"),
}


class Organisation(models.Model):
    class Kind(models.TextChoices):
        NGO = "ngo", _("NGO")
        CENTRE = "centre", _("Community centre")
        INITIATIVE = "initiative", _("Initiative")
        MEDIA = "media", _("Media")
        COMPANY = "company", _("Company")
        PUBLIC = "public", _("Public service")
        OTHER = "other", _("Other")

    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    original_language = models.CharField(max_length=8)
    # ",legal,housing," and ",ru,uk,": simple, indexable membership filters on any database.
    areas = models.CharField(_("areas of work"), max_length=200, blank=True)
    languages = models.CharField(_("languages spoken"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    telegram = models.CharField(_("Telegram channel"), max_length=64, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    events = models.ManyToManyField("events.Event", blank=True, related_name="organisations")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:organisation", args=[self.slug])

    def text(self, language: str | None = None):
        language = (language or get_language() or "en").lower()
        texts = {t.language: t for t in self.texts.all()}
        return texts.get(language) or texts.get(self.original_language)

    @property
    def area_list(self) -> list[str]:
        return [a for a in self.areas.split(",") if a]

    @property
    def language_list(self) -> list[str]:
        return [a for a in self.languages.split(",") if a]


class OrganisationText(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8)
    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("description (Markdown)"), blank=True)
    derived = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "language"], name="directory_org_text")
        ]

    def __str__(self) -> str:
        return self.name


class Revision(models.Model):
    """Every change to an organisation or a guide: who, when, and the whole record after it."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    guide = models.ForeignKey(
        "Guide", on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"revision {self.pk}"


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="proposals"
    )
    data = models.JSONField(default=dict)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # When the proposer was told the outcome. An approval tells them at once; a rejection
    # waits out its undo window (krov.core.undo) and is told by a task: until then this is
    # empty and the reviewer may still undo it.
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"proposal {self.pk}"


class Guide(models.Model):
    class Topic(models.TextChoices):
        ARRIVING = "arriving", _("Arriving and staying")
        REGISTRATION = "registration", _("Residence registration")
        WORK = "work", _("Work and business")
        BANKING = "banking", _("Banking and money")
        HOUSING = "housing", _("Housing")
        HEALTH = "health", _("Health")
        EDUCATION = "education", _("Education")
        LANGUAGE = "language", _("Language")
        SAFETY = "safety", _("Safety")

    slug = models.SlugField(max_length=80, unique=True)
    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    original_language = models.CharField(max_length=8)
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="guides")
    sources = models.TextField(_("sources (one link per line)"), blank=True)
    last_verified_at = models.DateField(_("last verified on"), null=True, blank=True)
    verify_by = models.DateField(_("verify again by"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic", "slug"]
        verbose_name = _("guide")
        verbose_name_plural = _("guides")

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:guide", args=[self.slug])

    def text(self, language: str | None = None):
        language = (language or get_language() or "en").lower()
        texts = {t.language: t for t in self.texts.all()}
        return texts.get(language) or texts.get(self.original_language)

    @property
    def is_stale(self) -> bool:
        return self.verify_by < timezone.localdate()

    @property
    def source_list(self) -> list[str]:
        return [line.strip() for line in self.sources.splitlines() if line.strip()]


class GuideText(models.Model):
    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8)
    title = models.CharField(_("title"), max_length=160)
    body = models.TextField(_("text (Markdown)"))
    steps = models.TextField(_("steps (one per line)"), blank=True)
    derived = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guide", "language"], name="directory_guide_text")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]
