"""Field encryption: MultiFernet over KROV_FIELD_KEYS, newest key first."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet", "rotate"]


@cache
def fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.KROV_FIELD_KEYS])


@receiver(setting_changed)
def _reset_keys(*, setting: str, **kwargs) -> None:
    if setting == "KROV_FIELD_KEYS":
        fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """The same plaintext, encrypted under the newest key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")
