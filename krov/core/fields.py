"""Model fields whose content is encrypted at rest."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from krov.core import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token (MultiFernet over KROV_FIELD_KEYS).

    The column holds only ciphertext, so it cannot be searched, ordered or filtered on;
    use a keyed hash beside it when lookups are needed. `krov rotate-keys` re-encrypts
    every such column under the newest key.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return crypto.decrypt(value)
        except crypto.InvalidToken:
            raise ValidationError(
                "An encrypted value cannot be read with the configured KROV_FIELD_KEYS."
            ) from None

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull"}:
            raise TypeError(f"encrypted fields do not support the {lookup_name!r} lookup")
        return super().get_lookup(lookup_name)


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    from django.apps import apps

    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found
