"""The press watch: feeds of the host country's media (sources), their entries (stories),
and the watch list of terms that makes a story worth an editor's look."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.Model):
    url = models.URLField(_("feed address"), max_length=500, unique=True)
    name = models.CharField(_("name"), max_length=120)
    # The language the source writes in: Serbian titles are shown in the page's script.
    language = models.CharField(_("language"), max_length=8, default="sr")
    active = models.BooleanField(_("active"), default=True)
    # What the last answer said, sent back for a conditional GET.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_ok_at = models.DateTimeField(_("last worked"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("press source")
        verbose_name_plural = _("press sources")

    def __str__(self) -> str:
        return self.name


class WatchTerm(models.Model):
    """A word stem (Latin, lower case) and the endings its forms may have: "rus" with
    "- a u om e i ima" finds Rus, Rusa, Rusima, Русима, and not rusvaj nor Rusija."""

    term = models.CharField(_("word stem"), max_length=60, unique=True)
    # Space-separated; "-" is the stem alone. Blank: the stem as a whole word only.
    endings = models.CharField(_("endings"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]
        verbose_name = _("watch term")
        verbose_name_plural = _("watch terms")

    def __str__(self) -> str:
        return self.term

    def ending_list(self) -> list[str]:
        return [("" if ending == "-" else ending) for ending in self.endings.split()] or [""]


class StoryQuerySet(models.QuerySet):
    def with_state(self):
        """`state`: the status an editor set, or "answered" once the bulletin linked to the
        story is published (computed, so publication needs no signal and no polling)."""
        answered = Q(answered_by__status="published", answered_by__published_at__lte=timezone.now())
        return self.annotate(
            state=Case(
                When(answered, then=Value(Story.Status.ANSWERED)),
                default="status",
                output_field=models.CharField(),
            )
        )

    def matched(self):
        return self.filter(terms__isnull=False).distinct()


class Story(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        TO_ANSWER = "to_answer", _("To answer")
        NOT_RELEVANT = "not_relevant", _("Not relevant")
        ANSWERED = "answered", _("Answered")

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="stories")
    # The entry's id in its feed (its link when it has none): one story per entry.
    guid = models.CharField(max_length=500)
    link = models.URLField(max_length=1000, blank=True)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(db_index=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    # Title and summary in Latin script, lower case: what the watch terms are matched on.
    search_text = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    terms = models.ManyToManyField(WatchTerm, blank=True, related_name="stories")
    # The bulletin written in answer (a draft until it is published).
    answered_by = models.ForeignKey(
        "bulletins.Post",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="press_stories",
    )

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "guid"], name="press_story_unique_guid")
        ]
        verbose_name = _("press story")
        verbose_name_plural = _("press stories")

    def __str__(self) -> str:
        return self.title
