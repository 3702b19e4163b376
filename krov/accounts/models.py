from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


def new_security_stamp() -> str:
    return secrets.token_hex(16)


def language_choices() -> list[tuple[str, str | Promise]]:
    """The site's languages, read when asked (never at import)."""
    return [(code, name) for code, name in settings.LANGUAGES]


def default_language() -> str:
    return settings.LANGUAGE_CODE


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("an account needs an email address")
        email = self.normalize_email(email)
        user = self.model(email=email, **extra)
        user.set_password(password)  # type: ignore[attr-defined]
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """An account. Others only ever see the pseudonym; the email stays private."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    pseudonym = models.CharField(
        _("pseudonym"),
        max_length=40,
        unique=True,
        help_text=_("The name other people see. It need not be your real name."),
    )
    # Changing it ends every session that was signed in before (see get_session_auth_hash).
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)
    # A second password that, typed at sign-in, locks the account instead (see panic).
    duress_password = models.CharField(max_length=128, blank=True, editable=False)
    locked_by_panic_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Every email, Telegram message and notification to this person is written in it.
    language = models.CharField(
        _("language"), max_length=16, choices=language_choices, default=default_language
    )
    # How notifications reach them: a channel's name (krov.core.notify), "none", or empty
    # for not chosen yet (their Telegram chat once they linked one, else email).
    notification_channel = models.CharField(
        _("notifications"), max_length=16, blank=True, default=""
    )
    # An account no person signs in to (a key custodian's): it takes no role, no vouch and no
    # role request, and the admin's account list does not show it (`krov custodian` manages it).
    is_service_account = models.BooleanField(default=False, editable=False)

    objects = UserManager()  # type: ignore[assignment,misc]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["pseudonym"]

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(Lower("pseudonym"), name="accounts_user_pseudonym_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    def get_short_name(self) -> str:
        return self.pseudonym

    def get_full_name(self) -> str:
        return self.pseudonym

    def has_perm(self, perm, obj=None) -> bool:
        # Django lets a superuser (and a permission given straight to a user) pass every
        # check; the ones that open cases come only from a role a second person confirmed.
        from krov.accounts import roles, services

        if perm in roles.CASE_PERMISSIONS:
            return self.is_active and any(
                perm in roles.ROLE_PERMISSIONS[role] for role in services.user_roles(self)
            )
        return super().has_perm(perm, obj)

    def _get_session_auth_hash(self, secret=None):
        key_salt = "krov.accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.security_stamp}", secret=secret, algorithm="sha256"
        ).hexdigest()


class Capability(models.Model):
    """No table: a home for site-wide permissions that roles grant and views require."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("use_member_area", _("Can use the members' area")),
            ("answer_help_requests", _("Can answer help requests as a volunteer")),
            ("triage_help_requests", _("Can triage help requests and assign cases")),
            ("organise_events", _("Can organise events")),
            ("moderate_housing", _("Can moderate housing listings")),
            ("review_directory", _("Can review the directory and guides")),
            ("edit_bulletins", _("Can write bulletins")),
            ("publish_bulletins", _("Can approve and publish bulletins")),
            ("view_audit_log", _("Can read the security audit log")),
            ("manage_roles", _("Can grant and take away roles")),
        ]

    def __str__(self) -> str:
        return "capability"


class RoleGrant(models.Model):
    """A request to give someone a role that opens cases; a second person decides.

    One administrator alone cannot make anyone (themselves included) a volunteer or a
    coordinator: another administrator or a coordinator confirms, and every coordinator is
    told. Kept as the record of who asked and who confirmed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second person")
        CONFIRMED = "confirmed", _("Confirmed")
        REFUSED = "refused", _("Refused")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=32)
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("role request")
        verbose_name_plural = _("role requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status="pending"),
                name="accounts_rolegrant_one_pending_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.user_id} ({self.status})"


class UnlockRequest(models.Model):
    """Lifting a panic lock, asked by one administrator and confirmed by a second person.

    A lock may come from a duress sign-in: whoever forced it may also press an administrator
    into unlocking. One person alone cannot lift it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second person")
        CONFIRMED = "confirmed", _("Confirmed")
        REFUSED = "refused", _("Refused")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="unlock_requests")
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("unlock request")
        verbose_name_plural = _("unlock requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="accounts_unlockrequest_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"unlock {self.user_id} ({self.status})"
