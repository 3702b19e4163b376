"""Krov's one authentication backend: the sign-in that a duress password cannot betray.

Every attempt with a login and a password does the same hashing work whatever the outcome
(right or wrong password, unknown account, duress password, locked account): the password
is checked against the account's hash and against its duress hash, with a stand-in hash
for whichever is missing. Every failure, a duress sign-in and a locked account included,
ends the same way as a wrong password: `PermissionDenied`, which stops Django from trying
any other backend and sends `user_login_failed`. So after a duress sign-in the real
password gets the answer a wrong one gets, never "this account is inactive".
"""

from __future__ import annotations

import secrets
from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied

from krov.accounts import services
from krov.accounts.models import User


@cache
def _stand_in_hash() -> str:
    """A hash of nothing anyone knows, made with the current hasher and its cost."""
    return make_password(secrets.token_urlsafe(24))


class KrovBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        login = email or username or kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None  # not a password sign-in (e.g. a session or a code): not ours
        user = User.objects.filter(email__iexact=login).first()
        real_hash = user.password if user is not None and user.has_usable_password() else None
        duress_hash = user.duress_password if user is not None else ""
        # Both checks run, always, in this order, so time does not tell them apart.
        real_ok = check_password(password, real_hash or _stand_in_hash())
        duress_ok = check_password(password, duress_hash or _stand_in_hash())
        # A service account (a key custodian) signs in with its token only, never here.
        if user is None or not user.is_active or user.is_service_account:
            raise PermissionDenied
        if duress_ok and duress_hash:
            services.panic(user, via="duress")
            raise PermissionDenied
        if not (real_ok and real_hash):
            raise PermissionDenied
        if _needs_rehash(user.password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return user


def _needs_rehash(encoded: str) -> bool:
    from django.contrib.auth.hashers import identify_hasher

    try:
        return identify_hasher(encoded).must_update(encoded)
    except ValueError:
        return False
