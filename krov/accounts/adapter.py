from __future__ import annotations

import hashlib
import hmac
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from krov.core import crypto, ratelimit
from krov.core.clientip import client_address


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """A keyed hash of the client address, never the address.

        allauth keys its rate limits on this value; the key changes every hour, so no
        entry can be tied to an address after its (at most hour-long) window expires.
        """
        address = ratelimit.client_network(client_address(request))  # an IPv6 /64 is one
        hour = int(time.time() // 3600)
        digest = hmac.new(
            settings.SECRET_KEY.encode(), f"rl:{hour}:{address}".encode(), hashlib.sha256
        ).hexdigest()
        return f"h{digest[:32]}"

    def get_http_user_agent(self, request: HttpRequest) -> str:
        return ""

    def send_notification_mail(self, template_prefix, user, context=None, email=None) -> None:
        """allauth's security notices ("your email address was changed"), without the
        client address or browser it would otherwise quote."""
        from allauth.account import app_settings
        from allauth.account.models import EmailAddress
        from django.utils import timezone

        if not app_settings.EMAIL_NOTIFICATIONS:
            return
        email = email or EmailAddress.objects.get_primary_email(user)
        if email:
            self.send_mail(template_prefix, email, {"timestamp": timezone.now(), **(context or {})})

    def send_mail(self, template_prefix, email, context) -> None:
        """A password reset for an account locked by panic or duress gets the mail a working
        account gets, with a link that only says it expired: whoever holds the person's
        phone must not learn from "no account with this address" that the account locked.
        """
        if template_prefix == "account/email/unknown_account":
            from krov.accounts.models import User

            locked = User.objects.filter(
                email__iexact=email, is_active=False, locked_by_panic_at__isnull=False
            ).first()
            if locked is not None:
                template_prefix = "account/email/password_reset_key"
                context = {**context, **self._decoy_reset(locked)}
        # Written in the language the person chose (krov.core.notify.language_of), whatever
        # the language of the page that caused it; to an unknown address, in the page's.
        from django.utils import translation

        from krov.core.notify import language_of

        user = self._owner_of(email, context)
        language = language_of(user) if user is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def _owner_of(self, email: str, context: dict):
        from krov.accounts.models import User

        user = context.get("user")
        if isinstance(user, User):
            return user
        return User.objects.filter(email__iexact=email).first()

    def _decoy_reset(self, user) -> dict:
        import secrets

        from allauth.account.utils import user_pk_to_url_str

        uid = user_pk_to_url_str(user)
        # A key of the real shape that no token generator made: the page says "expired".
        key = f"{secrets.token_hex(2)}-{secrets.token_hex(16)}"
        return {
            "user": user,
            "uid": uid,
            "key": key,
            "password_reset_url": self.get_reset_password_from_key_url(f"{uid}-{key}"),
        }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.KROV_OPEN_SIGNUP

    def save_user(self, request, user, form, commit=True):
        from django.utils import translation

        from krov.accounts.services import supported_language

        user = super().save_user(request, user, form, commit=False)
        user.pseudonym = form.cleaned_data["pseudonym"]
        # What Krov sends them is written in the language they signed up in (until they
        # choose another in their settings).
        user.language = supported_language(translation.get_language())
        if commit:
            user.save()
        return user


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        # TOTP secrets and recovery seeds never sit in the database in plain form.
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def get_totp_label(self, user) -> str:
        # What an authenticator app shows: the pseudonym, never the email address.
        return user.pseudonym

    def get_public_key_credential_user_entity(self, user) -> dict:
        entity = super().get_public_key_credential_user_entity(user)
        entity["display_name"] = entity["name"] = user.pseudonym
        return entity
