from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from krov.accounts.models import User
from krov.accounts.services import forget_roles, panic_pressed, second_factor_lost
from krov.aid.models import TeamKeyGrant


@receiver(panic_pressed, dispatch_uid="aid-release-after-panic")
def release_cases(sender, *, user, via, **kwargs) -> None:
    from krov.aid import services

    was_coordinator = services.team_key_grant_for(user) is not None
    services.release_after_panic(user)
    services.revoke_reader_keys(user)
    if was_coordinator:
        services.request_team_key_renewal()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="aid-keys-follow-roles")
def keys_follow_roles(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Someone who can no longer open cases keeps no key that opens them; a coordinator who
    leaves makes the team key due for renewal at once."""
    if action != "post_remove" or not pk_set:
        return
    from krov.aid import services

    users = list(User.objects.filter(pk__in=pk_set)) if reverse else [instance]
    for user in users:
        forget_roles(user)
        if services.is_custodian(user):
            continue  # a custodian holds no role: its key goes only when it is revoked
        team_holder = TeamKeyGrant.objects.filter(reader_key__user=user).exists()
        if team_holder and not services.is_coordinator(user):
            services.request_team_key_renewal()
        if not (services.is_coordinator(user) or user.has_perm("accounts.answer_help_requests")):
            services.revoke_reader_keys(user)


@receiver(user_logged_in, dispatch_uid="aid-device-key-at-sign-in")
def give_device_key(sender, request, user, **kwargs) -> None:
    """Each session gets its device key at sign-in (services.device_key), so desk pages only
    read it."""
    if request is not None and hasattr(request, "session"):
        from krov.aid import services

        services.device_key(request.session)


@receiver(second_factor_lost, dispatch_uid="aid-pause-without-second-factor")
def pause_volunteer(sender, *, user, **kwargs) -> None:
    from krov.aid import services

    services.pause_without_second_factor(user)
