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
        KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")
        CASE_ACCESSED = "case_accessed", _("Case opened")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    # Plain ids rather than foreign keys: removing an account must not rewrite history.
    actor_id_ref = models.BigIntegerField(null=True, blank=True)
    actor_pseudonym = models.CharField(max_length=64, blank=True)
    subject_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_pseudonym = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

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
