"""Turn authentication signals into audit records and session invalidation."""

from __future__ import annotations

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from krov.accounts import services
from krov.core import audit
from krov.core.models import AuditEvent

User = get_user_model()


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    audit.record(AuditEvent.Kind.LOGIN, actor=user, subject=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(AuditEvent.Kind.LOGOUT, actor=user, subject=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The attempted address is not stored; only whether it belongs to an account.
    email = credentials.get("email") or credentials.get("username") or ""
    subject = User.objects.filter(email__iexact=email).first() if email else None
    audit.record(AuditEvent.Kind.LOGIN_FAILED, subject=subject)


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
def on_password_changed(sender, request, user, **kwargs) -> None:
    # Django's password-hash-based session check already ends the other sessions;
    # allauth keeps the current one (ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False).
    audit.record(AuditEvent.Kind.PASSWORD_CHANGED, actor=user, subject=user)


@receiver(account_signals.password_reset)
def on_password_reset(sender, request, user, **kwargs) -> None:
    audit.record(AuditEvent.Kind.PASSWORD_RESET, subject=user)


@receiver(mfa_signals.authenticator_added)
def on_mfa_added(sender, request, user, authenticator, **kwargs) -> None:
    audit.record(AuditEvent.Kind.MFA_ADDED, actor=user, subject=user, type=authenticator.type)
    services.end_other_sessions(request, user)


@receiver(mfa_signals.authenticator_removed)
def on_mfa_removed(sender, request, user, authenticator, **kwargs) -> None:
    audit.record(AuditEvent.Kind.MFA_REMOVED, actor=user, subject=user, type=authenticator.type)
    services.end_other_sessions(request, user)
    if not services.has_mfa(user):
        services.second_factor_lost.send(sender=User, user=user)


@receiver(mfa_signals.authenticator_reset)
def on_mfa_reset(sender, request, user, authenticator, **kwargs) -> None:
    services.end_other_sessions(request, user)


@receiver(m2m_changed, sender=User.groups.through)
def on_roles_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove"} or not pk_set:
        return
    kind = AuditEvent.Kind.ROLE_ADDED if action == "post_add" else AuditEvent.Kind.ROLE_REMOVED
    actor = services.current_role_actor()
    if reverse:  # group.user_set.add(...): instance is the group
        names = [instance.name]
        users = list(User.objects.filter(pk__in=pk_set))
    else:
        names = list(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        users = [instance]
    for user in users:
        for name in sorted(names):
            audit.record(kind, actor=actor, subject=user, role=name)
