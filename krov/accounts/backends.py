"""The duress backend: listed first, it recognises a duress password, presses panic for
the account and stops authentication, so the sign-in fails like a wrong password."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from krov.accounts import services
from krov.accounts.models import User


class DuressBackend:
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        login = email or username or kwargs.get(User.USERNAME_FIELD)
        if not login or not password:
            return None
        user = User.objects.filter(email__iexact=login, is_active=True).first()
        if user is None or not services.is_duress_password(user, password):
            return None
        services.panic(user, via="duress")
        # Stops the other backends: the duress password never signs anyone in.
        raise PermissionDenied

    def get_user(self, user_id):
        return None
