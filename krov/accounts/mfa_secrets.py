"""TOTP secrets and recovery-code seeds, encrypted at rest under KROV_FIELD_KEYS.

allauth stores them in `Authenticator.data` and passes every one through the MFA
adapter's `encrypt`/`decrypt` hooks (see `adapter.MFAAdapter`); these helpers name the
values that are secret, so the data migration and `krov rotate-keys` treat the same ones.
"""

from __future__ import annotations

from collections.abc import Callable

# Authenticator type -> keys of `data` holding a secret (a string, or a list of strings).
SECRET_KEYS = {"totp": ("secret",), "recovery_codes": ("seed", "migrated_codes")}


def transform(kind: str, data: dict, change: Callable[[str], str]) -> dict:
    """`data` with every secret value passed through `change`."""
    data = dict(data)
    for key in SECRET_KEYS.get(kind, ()):
        value = data.get(key)
        if isinstance(value, str):
            data[key] = change(value)
        elif isinstance(value, list):
            data[key] = [change(item) for item in value]
    return data


def rotate(*, using: str = "default") -> int:
    """Re-encrypt every stored second-factor secret under the newest field key."""
    from allauth.mfa.models import Authenticator
    from django.db import transaction

    from krov.core import crypto

    done = 0
    with transaction.atomic(using=using):
        authenticators = Authenticator.objects.using(using).select_for_update()
        for authenticator in authenticators.filter(type__in=list(SECRET_KEYS)):
            authenticator.data = transform(authenticator.type, authenticator.data, crypto.rotate)
            authenticator.save(using=using, update_fields=["data"])
            done += 1
    return done
