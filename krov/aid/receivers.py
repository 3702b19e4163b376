from __future__ import annotations

from django.dispatch import receiver

from krov.accounts.services import panic_pressed, second_factor_lost


@receiver(panic_pressed, dispatch_uid="aid-release-after-panic")
def release_cases(sender, *, user, via, **kwargs) -> None:
    from krov.aid import services

    services.release_after_panic(user)
    services.revoke_reader_keys(user)


@receiver(second_factor_lost, dispatch_uid="aid-pause-without-second-factor")
def pause_volunteer(sender, *, user, **kwargs) -> None:
    from krov.aid import services

    services.pause_without_second_factor(user)
