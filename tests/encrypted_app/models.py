"""A test-only model that exercises the encrypted field as later modules will use it."""

from __future__ import annotations

from django.db import models

from krov.core.fields import EncryptedTextField


class Note(models.Model):
    body = EncryptedTextField()
    remark = EncryptedTextField(null=True, blank=True)

    def __str__(self) -> str:
        return f"note {self.pk}"
