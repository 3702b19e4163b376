from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit record."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the audit log is append-only")

    def delete(self):
        raise AppendOnlyError("the audit log is append-only")


class AuditEvent(models.Model):
    """One security-relevant event. Append-only; holds ids and pseudonyms, never addresses."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        LOGOUT = "logout", _("Signed out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        MFA_ADDED = "mfa_added", _("Second factor added")
        MFA_REMOVED = "mfa_removed", _("Second factor removed")
        ROLE_ADDED = "role_added", _("Role granted")
        ROLE_REMOVED = "role_removed", _("Role taken away")
        ROLE_REQUESTED = "role_requested", _("Role requested, waiting for a second person")
        ROLE_REFUSED = "role_refused", _("Role request refused")
        ROLE_CONFIRMED = "role_confirmed", _("Role request confirmed")
        ACCOUNT_CHANGED = "account_changed", _("Account changed by an administrator")
        EMAIL_CHANGED = "email_changed", _("Email address changed")
        KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")
        CASE_ACCESSED = "case_accessed", _("Case opened")
        READER_KEY_ADDED = "reader_key_added", _("Reader key added")
        READER_KEY_REVOKED = "reader_key_revoked", _("Reader key revoked")
        TEAM_KEY_CREATED = "team_key_created", _("Team key created")
        TEAM_KEY_GRANTED = "team_key_granted", _("Team key shared with a coordinator")
        CASE_KEY_GRANTED = "case_key_granted", _("Case key shared with a volunteer")
        CUSTODIAN_ADDED = "custodian_added", _("Key custodian added")
        CUSTODIAN_REVOKED = "custodian_revoked", _("Key custodian revoked")
        PSEUDONYM_CHANGED = "pseudonym_changed", _("Pseudonym changed")
        TELEGRAM_REPROCESSED = "telegram_reprocessed", _("Parked Telegram updates processed again")
        PANIC = "panic", _("Panic: account locked")
        ACCOUNT_UNLOCKED = "account_unlocked", _("Account unlocked")
        UNLOCK_REQUESTED = "unlock_requested", _("Unlock requested, waiting for a second person")
        UNLOCK_REFUSED = "unlock_refused", _("Unlock refused")
        DURESS_SET = "duress_set", _("Duress password set")
        TRUST_CHANGED = "trust_changed", _("Volunteer trust changed")
        VOLUNTEER_VOUCHED = "volunteer_vouched", _("Volunteer vouched for")
        DATA_PURGED = "data_purged", _("Data purged")
        HOUSING_LISTING_POSTED = "housing_listing_posted", _("Housing: listing posted")
        HOUSING_FLAGGED = "housing_flagged", _("Housing: listing reported")
        HOUSING_HIDDEN = "housing_hidden", _("Housing: listing hidden")
        HOUSING_RESTORED = "housing_restored", _("Housing: listing restored")
        HOUSING_FLAGS_DISMISSED = "housing_flags_dismissed", _("Housing: reports dismissed")
        HOUSING_BANNED = "housing_banned", _("Housing: member banned")
        HOUSING_BAN_LIFTED = "housing_ban_lifted", _("Housing: ban lifted")
        HOUSING_RENTS_IMPORTED = "housing_rents_imported", _("Housing: rents imported")
        PRESS_STORY_MARKED = "press_story_marked", _("Press: story marked")
        PRESS_SOURCE_ADDED = "press_source_added", _("Press: feed added")
        PRESS_SOURCE_REMOVED = "press_source_removed", _("Press: feed no longer watched")
        PRESS_SOURCE_RESTORED = "press_source_restored", _("Press: feed watched again")
        PRESS_TERM_ADDED = "press_term_added", _("Press: watch term added")
        PRESS_TERM_CHANGED = "press_term_changed", _("Press: watch term changed")
        PRESS_TERM_REMOVED = "press_term_removed", _("Press: watch term removed")
        BULLETIN_SUBMITTED = "bulletin_submitted", _("Bulletins: submitted for review")
        BULLETIN_APPROVED = "bulletin_approved", _("Bulletins: approved for publication")
        BULLETIN_SENT_BACK = "bulletin_sent_back", _("Bulletins: sent back to draft")
        BULLETIN_UNPUBLISHED = "bulletin_unpublished", _("Bulletins: unpublished")
        BULLETIN_EDIT_APPROVED = "bulletin_edit_approved", _("Bulletins: edit approved")
        BULLETIN_EDIT_DISCARDED = "bulletin_edit_discarded", _("Bulletins: edit discarded")
        BULLETIN_RECORDING_APPROVED = (
            "bulletin_recording_approved",
            _("Bulletins: new recording approved"),
        )
        BULLETIN_RECORDING_DISCARDED = (
            "bulletin_recording_discarded",
            _("Bulletins: new recording discarded"),
        )
        BULLETIN_REMOVAL_REQUESTED = (
            "bulletin_removal_requested",
            _("Bulletins: removal of a recording requested"),
        )
        BULLETIN_RECORDING_REMOVED = (
            "bulletin_recording_removed",
            _("Bulletins: recording removed (approved)"),
        )
        BULLETIN_REMOVAL_DISCARDED = (
            "bulletin_removal_discarded",
            _("Bulletins: removal of a recording refused"),
        )
        TAG_TRANSLATION_ADDED = "tag_translation_added", _("Bulletins: tag translation added")
        TAG_TRANSLATION_CHANGED = (
            "tag_translation_changed",
            _("Bulletins: tag translation changed"),
        )
        TAG_TRANSLATION_REMOVED = (
            "tag_translation_removed",
            _("Bulletins: tag translation removed"),
        )
        VENUE_ADDED = "venue_added", _("Events: venue added")
        VENUE_CHANGED = "venue_changed", _("Events: venue changed")
        VENUE_REMOVED = "venue_removed", _("Events: venue removed")
        VENUE_TRANSLATION_ADDED = "venue_translation_added", _("Events: venue translation added")
        VENUE_TRANSLATION_CHANGED = (
            "venue_translation_changed",
            _("Events: venue translation changed"),
        )
        VENUE_TRANSLATION_REMOVED = (
            "venue_translation_removed",
            _("Events: venue translation removed"),
        )

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    # Plain ids rather than foreign keys: removing an account must not rewrite history.
    actor_id_ref = models.BigIntegerField(null=True, blank=True)
    actor_pseudonym = models.CharField(max_length=64, blank=True)
    subject_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_pseudonym = models.CharField(max_length=64, blank=True)
    # What was touched when it is not a person, e.g. "case:<uuid>"; indexed for per-case logs.
    target = models.CharField(max_length=80, blank=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    # A chain: each row's hash covers its content and the hash of the row before, so a
    # removed or changed row breaks every hash after it (`krov audit-verify`).
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the audit log is append-only")


class Notification(models.Model):
    """The channel-neutral outbox: one message to one person, delivered by a task.

    A row holds its kind and the values the kind's text needs (`params`); the text is made
    when it is delivered, in the recipient's language (krov.core.notify). Texts say only
    that something is waiting and where; never what a case is about. The row is the truth
    and the queue a nudge: a periodic sweep delivers what a lost nudge left.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent: the person wants no notifications")

    recipient = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    # Rows made before texts were rendered at delivery carry their text here; new rows leave
    # both empty.
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    # What it is about, for channels that add buttons (e.g. "offer:<uuid>").
    ref = models.CharField(max_length=80, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class OldSlug(models.Model):
    """A slug a page was once reachable under: its URLs answer 301 to the current one
    (krov.core.oldslugs). `model` is the label ("events.event"), `slug` the current slug."""

    model = models.CharField(max_length=64)
    old_slug = models.SlugField(max_length=100)
    slug = models.SlugField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "old_slug"], name="core_old_slug_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.old_slug} -> {self.slug}"


class TranslationRow(models.Model):
    """One row per language of a short text written once with translations beside it (a
    venue's, a tag's; `krov.core.translated` picks which a page shows). Serbian is stored
    once, as "sr". A subclass adds its foreign key, its texts (`name` at least) and a
    unique constraint on (that key, language), with `class Meta(TranslationRow.Meta)`."""

    language = models.CharField(_("language"), max_length=8)

    class Meta:
        abstract = True
        ordering = ["language"]

    def __str__(self) -> str:
        return f"{getattr(self, 'name', '')} ({self.language})"
