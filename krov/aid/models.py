"""Mutual aid: skills, volunteers, help requests (which are the cases), offers, the
conversation and notes. Every field that could identify or describe a person in need is
encrypted at rest; what survives retention is an anonymous record (see services.purge)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krov.core.fields import EncryptedTextField
from krov.core.inputs import validate_time_zone

# Languages the desk can work in: those a requester may write in and a volunteer may speak.
AID_LANGUAGES = {
    "uk": _("Ukrainian"),
    "ru": _("Russian"),
    "be": _("Belarusian"),
    "sr": _("Serbian"),
    "en": _("English"),
    "de": _("German"),
}

# Labels of the seeded skills, translated through the catalogues. A coordinator who renames
# a skill writes their own label, which then wins.
SEEDED_SKILL_LABELS = {
    "driving": _("Driving instruction"),
    "evacuation": _("Evacuation routes and transport"),
    "translation": _("Translation"),
    "legal": _("Legal advice"),
    "medical": _("Medical advice"),
    "psychological": _("Psychological support"),
    "housing": _("Housing"),
    "documents": _("Documents and visas"),
    "money": _("Money transfers"),
    "digital-security": _("Digital security"),
    "other": _("Other"),
}


class Skill(models.Model):
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    active = models.BooleanField(_("offered on the form"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self):
        if self.name:
            return self.name
        return SEEDED_SKILL_LABELS.get(self.slug, self.slug)


class TrustLevel(models.IntegerChoices):
    PROBATION = 0, _("On probation")
    REGULAR = 1, _("Regular")
    TRUSTED = 2, _("Trusted")


class Sensitivity(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")


class VolunteerProfile(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    languages = models.JSONField(_("languages"), default=list)
    max_cases = models.PositiveSmallIntegerField(
        _("cases at once"), default=2, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Belgrade", validators=[validate_time_zone]
    )
    paused = models.BooleanField(_("paused"), default=False)
    trust = models.IntegerField(
        _("trust"), choices=TrustLevel.choices, default=TrustLevel.PROBATION
    )
    vouched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vouched for by"),
    )
    vouched_at = models.DateTimeField(_("vouched for on"), null=True, blank=True)
    # Kept by the services: open cases right now, closed cases ever, a moving average of
    # seconds from offer to answer. Denormalised so ranking reads one row per volunteer.
    open_cases = models.PositiveIntegerField(default=0)
    closed_cases = models.PositiveIntegerField(default=0)
    response_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")

    def __str__(self) -> str:
        return self.user.pseudonym


class VolunteerSkill(models.Model):
    class Level(models.IntegerChoices):
        BASIC = 1, _("Basic")
        GOOD = 2, _("Good")
        EXPERT = 3, _("Expert")

    volunteer = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=Level.GOOD)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "skill"], name="aid_volunteerskill_unique")
        ]
        indexes = [models.Index(fields=["skill", "level"])]

    def __str__(self) -> str:
        return f"{self.skill_id}:{self.level}"


class VolunteerMatchKey(models.Model):
    """One row per skill and language of a volunteer, kept by `services.match_keys` (called
    by the services that change a profile's languages, skills or load, in their
    transaction), never written elsewhere. Ranking walks the volunteers who share the
    requester's language and hold the skill through one index in the ranking's own order
    (level, free capacity, answer time, id) and stops once it has enough, instead of
    reading and sorting every profile (krov.aid.matching); each row it reads carries the
    volunteer's weekly windows."""

    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.CASCADE, related_name="match_keys"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8)
    level = models.PositiveSmallIntegerField()
    # Copies of the profile, exact: its load, `matching.free_share(max_cases, open_cases)`
    # and `response_seconds` or 3600, as ranking orders them.
    free = models.FloatField(default=0.0)
    response = models.PositiveIntegerField(default=3600)
    # The weekly windows, `matching.windows_text` of the profile's AvailabilityWindow rows.
    windows = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "skill", "language"], name="aid_matchkey_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["skill", "language", "-level", "-free", "response", "volunteer"],
                name="aid_matchkey_rank",
            )
        ]

    def __str__(self) -> str:
        return f"{self.skill_id}:{self.language}:{self.level}"


class AvailabilityWindow(models.Model):
    """A weekly window in the volunteer's own time zone (end before start: past midnight)."""

    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.CASCADE, related_name="windows"
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class Shift(models.Model):
    volunteer = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"shift until {self.ends_at:%Y-%m-%d %H:%M}"


class HelpRequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=[HelpRequest.Status.CLOSED, HelpRequest.Status.SPAM])


class HelpRequest(models.Model):
    """A request for help; once a volunteer takes it, also the case."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        TELEGRAM = "telegram", _("Telegram")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        TRIAGED = "triaged", _("Triaged")
        OFFERED = "offered", _("Offered")
        ACTIVE = "active", _("Active")
        WAITING = "waiting", _("Waiting for the requester")
        CLOSED = "closed", _("Closed")
        SPAM = "spam", _("Spam")

    class Urgency(models.IntegerChoices):
        LOW = 0, _("Can wait a few days")
        NORMAL = 1, _("Within a day")
        HIGH = 2, _("Urgent: within hours")
        CRITICAL = 3, _("Life or safety at risk now")

    class Outcome(models.TextChoices):
        HELPED = "helped", _("Helped")
        REFERRED = "referred", _("Referred elsewhere")
        COULD_NOT_HELP = "could_not_help", _("Could not help")
        REQUESTER_GONE = "requester_gone", _("Requester gone")
        DUPLICATE = "duplicate", _("Duplicate")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True, editable=False)
    # A keyed hash of the requester's secret link; the link itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    # A keyed hash of the form's one-time submission key: a double submit finds the first.
    submission_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=8)
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    urgency = models.IntegerField(choices=Urgency.choices, default=Urgency.NORMAL)
    sensitivity = models.IntegerField(choices=Sensitivity.choices, default=Sensitivity.NORMAL)
    description = EncryptedTextField(blank=True)
    region = EncryptedTextField(blank=True)
    # How the channel reaches the requester: a Telegram chat id, or the email address a web
    # requester chose to be told at that someone answered (sealed to the case's key, never
    # kept in a form the server's own keys open; krov.aid.services.email_notice).
    contact_handle = EncryptedTextField(blank=True)
    contact_lookup = models.CharField(max_length=64, blank=True, db_index=True)
    # A web requester's email address sealed to each running worker's outbox key, {worker
    # public key: sealed address}: the worker that sends the notice opens it in memory.
    notice_sealed = models.JSONField(default=dict, blank=True, editable=False)
    # When the next "someone answered" email falls due (None: none waits), and when the
    # last one went out (one at most every NOTICE_GAP).
    notice_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    noticed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # After every worker restarted: the case's key a reader handed to the running workers
    # for one answer, {"message": its id, "keys": {worker key: sealed case key}}.
    notice_handed = models.JSONField(default=dict, blank=True, editable=False)
    # The mail server's refusals in a row (the address goes after a few).
    notice_failures = models.PositiveSmallIntegerField(default=0, editable=False)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        VolunteerProfile, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # The name the requester sees for whoever answers; new for every assignment.
    alias = models.CharField(max_length=40, blank=True)
    # Sealed cases (krov.core.sealing): the case's public key; every text of the case is
    # sealed to it. Its private half exists only wrapped (CaseKeyGrant, requester_wrap).
    # Empty for a case taken in before sealing was set up (field keys only).
    seal_public = models.CharField(max_length=64, blank=True, editable=False)
    # The case's private key wrapped under a key derived from the requester's secret link.
    requester_wrap = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    triaged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # When every coordinator was alerted that this life-or-safety case waits unanswered.
    critical_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_activity_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = HelpRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-urgency", "created_at"]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "closed_at"]),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status not in {self.Status.CLOSED, self.Status.SPAM}

    @property
    def language_label(self):
        return AID_LANGUAGES.get(self.language, self.language)

    @property
    def is_sealed(self) -> bool:
        return bool(self.seal_public)


class Offer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="offers")
    volunteer = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rank = models.PositiveSmallIntegerField(default=1)
    explanation = models.CharField(max_length=200, blank=True)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-offered_at"]
        indexes = [models.Index(fields=["volunteer", "status"])]

    def __str__(self) -> str:
        return f"offer {self.public_id}"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("From the requester")
        OUT = "out", _("To the requester")
        SYSTEM = "system", _("Notice")

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        SEEN = "seen", _("Seen")
        FAILED = "failed", _("Not delivered")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    # Who wrote it as the requester sees it: the case alias, or "" for the requester.
    author_alias = models.CharField(max_length=40, blank=True)
    # The volunteer's account, for the desk only; never shown to the requester.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = EncryptedTextField()
    # A channel's own reference (e.g. a Telegram file id); never downloaded to the server.
    attachment_ref = EncryptedTextField(blank=True)
    delivery = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)

    # Not a column: the text of a message just written, in memory while a channel relays it
    # (the body of a sealed case holds only ciphertext).
    plaintext: str | None = None
    # Not a column either: a message that arrived through Telegram, its text sealed at the
    # webhook to the running workers' outbox keys ({worker key: sealed}), for the channel
    # that relays it on (krov.telegram.outbox_keys).
    relay_sealed: dict[str, str] | None = None
    # The same for the reference of a file it came with ("photo:<file_id>").
    relay_sealed_attachment: dict[str, str] | None = None

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"])]

    def __str__(self) -> str:
        return f"message {self.public_id}"


class Note(models.Model):
    """Internal: seen by the volunteers on the case and coordinators, never the requester."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        QUESTION = "question", _("Question to coordinators")
        SYSTEM = "system", _("Desk notice")

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = EncryptedTextField()
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class CannedReply(models.Model):
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["language", "title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


# --- keys of sealed cases (see krov.core.sealing and docs/threat-model.md) ---------------------


class ReaderKey(models.Model):
    """A coordinator's or volunteer's public key. The private half was made in their browser
    and stays there, under their passphrase (and in the recovery file they keep)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_keys"
    )
    public_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="aid_readerkey_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"reader key {self.public_id}"


class Custodian(models.Model):
    """A key custodian: a small process on another machine (`krov custodian run`) that holds
    its own reader key and, once a coordinator shared it, the team key. It shares case keys
    with the volunteers who took cases, and lets waiting answers go out again, when no
    coordinator's Krov is open. It reaches the server with a token (only its keyed hash is
    stored), for those tasks only; it signs in as nobody and opens no page."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=30, unique=True)
    # A service account that is never signed in to: it names the custodian in the audit log
    # and holds its reader key like a person's.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="custodian"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"custodian {self.name}"


class TeamKey(models.Model):
    """The coordinators' shared key pair, one generation at a time. Every case key is
    wrapped to the current one; rotation re-wraps them and destroys the old private half
    (its grants), so an old backup or WAL opens for nobody."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    public_key = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Set when a coordinator leaves or presses panic: renew at once, not at the period's end.
    renewal_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"team key {self.public_id}"


class TeamKeyGrant(models.Model):
    """The team's private key wrapped to one coordinator's reader key."""

    team_key = models.ForeignKey(TeamKey, on_delete=models.CASCADE, related_name="grants")
    reader_key = models.ForeignKey(ReaderKey, on_delete=models.CASCADE, related_name="+")
    wrapped = models.TextField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team_key", "reader_key"], name="aid_teamkeygrant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"team key grant {self.pk}"


class CaseKeyGrant(models.Model):
    """A case's private key wrapped to the team key or to one volunteer's reader key.
    Purging the case deletes them all: nothing opens its rows any more."""

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="key_grants")
    team_key = models.ForeignKey(
        TeamKey, on_delete=models.CASCADE, null=True, blank=True, related_name="case_grants"
    )
    reader_key = models.ForeignKey(
        ReaderKey, on_delete=models.CASCADE, null=True, blank=True, related_name="case_grants"
    )
    wrapped = models.TextField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team_key__isnull=True, reader_key__isnull=False)
                | models.Q(team_key__isnull=False, reader_key__isnull=True),
                name="aid_casekeygrant_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["request", "team_key"], name="aid_casekeygrant_team_unique"
            ),
            models.UniqueConstraint(
                fields=["request", "reader_key"], name="aid_casekeygrant_reader_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"case key grant {self.pk}"


class PendingCaseKey(models.Model):
    """A case key made before its case exists: a Telegram requester's description is sealed
    at the webhook, before the dialogue (in the worker) turns it into a case. The case takes
    this key and id over (services.adopt_pending_key); unused ones go within a day."""

    case_id = models.UUIDField(unique=True)
    public_key = models.CharField(max_length=64)
    team_key = models.ForeignKey(TeamKey, on_delete=models.CASCADE, related_name="+")
    wrapped = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"pending case key {self.case_id}"
