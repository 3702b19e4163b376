"""The Telegram channel's own records: raw updates (the intake log), chats (who we talk to,
found by a keyed hash, the id itself encrypted), link codes and the outbound queue."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krov.core.fields import EncryptedTextField


class Update(models.Model):
    """One update as Telegram sent it. Unique on update_id: a retry is acknowledged and
    not processed twice. The raw JSON is encrypted and dropped once processed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        IGNORED = "ignored", _("Ignored")
        PARKED = "parked", _("Parked for an administrator")

    update_id = models.BigIntegerField(unique=True)
    chat_key = models.CharField(max_length=64, blank=True, db_index=True)
    payload = EncryptedTextField(blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["update_id"]
        indexes = [models.Index(fields=["chat_key", "status", "update_id"])]
        # The admin role's: see parked updates (never their payload) and queue them again.
        permissions = [("process_parked_updates", "Can process parked updates again")]

    def __str__(self) -> str:
        return f"update {self.update_id}"


class Chat(models.Model):
    """A private chat with the bot: a requester's dialogue, or a linked volunteer."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        LANGUAGE = "language", _("Choosing a language")
        CATEGORY = "category", _("Choosing the kind of help")
        DESCRIBE = "describe", _("Describing the request")
        CASE = "case", _("Has a case")
        FORGET = "forget", _("Confirming deletion")
        # A volunteer's chat after panic: answers as a linked chat does, delivers nothing.
        LOCKED = "locked", _("Linked to a locked account")

    # Argon2id of the chat's id (krov.telegram.chat_ids): the row is found by it.
    key = models.CharField(max_length=64, unique=True)
    # Only a linked volunteer's chat keeps its id under the field keys; a requester's is
    # sealed to the running workers (`sealed_id`) and to their case's key.
    chat_id = EncryptedTextField(blank=True)
    sealed_id = models.JSONField(default=dict, blank=True)
    # What the chat's cases carry as `contact_lookup`: a keyed hash of `key`.
    contact_lookup = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=8, default="uk")
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    skill_slug = models.CharField(max_length=40, blank=True)
    # The case to come (a requester describing their need): its key was made at the webhook
    # and what they write is sealed to it (telegram.sealed_intake).
    pending_case_id = models.UUIDField(null=True, blank=True)
    request = models.ForeignKey(
        "aid.HelpRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    volunteer = models.OneToOneField(
        "aid.VolunteerProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="telegram_chat",
    )
    last_sent_at = models.DateTimeField(null=True, blank=True)
    blocked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    # The chat's id while an update from it is handled, in memory only (never saved).
    seen_id: int | None = None

    def __str__(self) -> str:
        return f"chat {self.pk}"


class LinkCode(models.Model):
    """A one-time code a volunteer sends as /link CODE; only its hash is stored."""

    volunteer = models.ForeignKey(
        "aid.VolunteerProfile", on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link code for {self.volunteer_id}"


class Outbound(models.Model):
    """One Bot API call to make. The row is the truth; the worker sends due rows within
    Telegram's limits and records the result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Its text was sealed to a worker that is gone (or none was running): a reader hands
        # the case's key to a running worker (krov.telegram.outbox_keys).
        WAITING = "waiting", _("Waiting for a reader")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, null=True, blank=True)
    # For channel posts (no Chat row): the channel, e.g. "@krov_news".
    channel = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=32, default="sendMessage")
    params = EncryptedTextField()
    # A requester's answer never waits here in a form the server's keys open: its text is
    # sealed to each running worker's outbox key, {outbox public key: sealed text}, and the
    # worker composes the message when it sends it.
    sealed = models.JSONField(default=dict, blank=True)
    # When a reader sent a waiting answer again, `sealed` holds the case's key instead, sealed
    # to each worker: the worker opens the stored answer itself, so whoever sent it again
    # cannot change what the requester receives.
    sealed_case_key = models.BooleanField(default=False)
    # A row sent to a chat that is gone (the requester's /forget confirmation): the chat's
    # id sealed to each running worker, {outbox public key: sealed id}.
    sealed_chat = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now, db_index=True)
    error = models.CharField(max_length=200, blank=True)
    # What it is about: an aid message whose delivery status follows this row, or a case
    # whose conversation a volunteer may answer by replying to this message.
    aid_message = models.ForeignKey(
        "aid.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "aid.HelpRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "next_try_at"]),
            models.Index(fields=["chat", "telegram_message_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.pk}"


class OutboxKey(models.Model):
    """A worker's outbox key: its private half lives only in that worker's memory
    (krov.telegram.outbox_keys), so an answer waiting to be sent is unreadable once the
    worker stops. The worker renews `seen_at` while it runs; a key not seen for a few
    minutes is gone, and what was sealed to it waits for a reader's browser."""

    public = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A keyed hash of `public` and `seen_at` under KROV_SECRET_KEY (outbox_keys.proof),
    # written with `seen_at` each time: a row someone wrote into the database without that
    # secret (a key of their own, or a stopped worker's renewed or put back beside an old
    # proof) is no running worker's, and nothing is sealed to it.
    proof = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"outbox key {self.public[:8]}"
