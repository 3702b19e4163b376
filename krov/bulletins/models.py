"""Bulletins: posts with a version per language, tags, and an editorial workflow."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from krov.core.models import TranslationRow


class Tag(models.Model):
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    # The language the name is written in (the first post's): Serbian names are shown in the
    # page's script, other languages' never converted.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Its own name and each translation's name as the tags page's search compares them
    # (Serbian Cyrillic as Latin, case and white space folded: services.tag_search_text),
    # one a line, so that a match never runs from one name into the next. Written by the
    # services whenever the tag's names change.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class TagTranslation(TranslationRow):
    """A tag's name in another language than its own, one row per language; the tag's slug
    (its address in the tag filter) never changes. Serbian is stored once, as "sr", in
    either script: pages show it in theirs."""

    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="translations", verbose_name=_("tag")
    )
    name = models.CharField(_("name"), max_length=60)

    class Meta(TranslationRow.Meta):
        verbose_name = _("tag translation")
        verbose_name_plural = _("tag translations")
        constraints = [
            models.UniqueConstraint(
                fields=["tag", "language"], name="bulletins_tag_translation_unique"
            )
        ]


class PostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")

    slug = models.SlugField(_("address name"), max_length=80, unique=True)
    original_language = models.CharField(_("original language"), max_length=8)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts", verbose_name=_("tags"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulletins"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Set on approval: now, or the scheduled time (the post shows from then on).
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    publish_at = models.DateTimeField(_("publish at (optional)"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who wrote the words last: they may not approve them (see services.approve).
    last_writer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    announced_at = models.DateTimeField(null=True, blank=True)
    cover = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "published_at"])]
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("bulletins:detail", args=[self.slug])

    def version(self, language: str | None = None) -> PostVersion | None:
        language = (language or get_language() or "en").lower()
        versions = {v.language: v for v in self.versions.all()}
        return versions.get(language) or versions.get(self.original_language)

    @property
    def is_visible(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class PostVersion(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body = models.TextField(_("text (Markdown)"))
    # What the recording says, in this language (plain text; for listeners who cannot play
    # sound where they are, for screen readers and for search).
    transcript = models.TextField(_("transcript"), blank=True)
    derived = models.BooleanField(default=False)
    # Title, summary, body and transcript in Latin script, lower case: what search matches,
    # so a query in either Serbian script finds text written in the other.
    search_text = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "language"], name="bulletins_version_unique")
        ]
        indexes = [models.Index(fields=["language", "post"])]

    def __str__(self) -> str:
        return self.title


class PostRevision(models.Model):
    """An edit to a published bulletin, waiting for a second editor.

    The published text (`PostVersion`) stays as it is until someone other than the last
    writer approves the edit; then these rows replace it and are deleted.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body = models.TextField(_("text (Markdown)"))
    transcript = models.TextField(_("transcript"), blank=True)
    derived = models.BooleanField(default=False)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "language"], name="bulletins_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.language} (pending)"


class RecordingFiles(models.Model):
    """What an uploaded recording becomes: the upload, until the worker has made the Opus
    and MP3 files (loudness normalised, every tag stripped) that listeners get."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be processed")
        PROCESSING = "processing", _("Being processed")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Could not be processed")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Storage names (never public addresses): the upload (deleted once processed), then
    # the files served by bulletins:audio.
    original = models.CharField(max_length=200, blank=True)
    opus = models.CharField(max_length=200, blank=True)
    opus_bytes = models.PositiveBigIntegerField(default=0)
    mp3 = models.CharField(max_length=200, blank=True)
    mp3_bytes = models.PositiveBigIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    # Integrated loudness (LUFS, EBU R128) of the upload and of what listeners get.
    loudness_in = models.FloatField(null=True, blank=True)
    loudness_out = models.FloatField(null=True, blank=True)
    # Why processing failed, for the editors (no file content, no path).
    error = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY and bool(self.opus and self.mp3)

    @property
    def duration_seconds(self) -> int:
        return (self.duration_ms + 500) // 1000

    @property
    def duration_label(self) -> str:
        """ "4:05", or "1:02:05" past an hour."""
        hours, rest = divmod(self.duration_seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Recording(RecordingFiles):
    """The sound of a bulletin, as listeners get it (once processed)."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="recording")
    # Set when the channel got it as audio (or as a text post, when too large for that).
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")

    def __str__(self) -> str:
        return f"{self.post_id} ({self.status})"


class PendingRecording(RecordingFiles):
    """A new or replacing recording of a published bulletin, or the removal of its
    recording (`removal`), waiting for a second editor.

    The worker processes a new recording as soon as it comes (so the reviewer can listen to
    it on the bulletin's editor page); listeners keep the approved `Recording`, if any, until
    someone other than the uploader (for a removal, the editor who asked for it) approves
    this one. Then its files become the `Recording`'s (a removal: the `Recording` and its
    files go) and this row is deleted; a rejection deletes the row and its files."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="pending_recording")
    # Asks that the bulletin have no recording any more: no files, nothing to process
    # (status READY from the start); `uploaded_by` is who asked, `uploaded_at` when.
    removal = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("recording waiting for approval")
        verbose_name_plural = _("recordings waiting for approval")

    def __str__(self) -> str:
        return f"{self.post_id} ({'removal' if self.removal else self.status}, pending)"
