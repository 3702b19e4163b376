from __future__ import annotations

from django.dispatch import receiver

from krov.accounts.services import panic_pressed


@receiver(panic_pressed, dispatch_uid="aid-release-after-panic")
def release_cases(sender, *, user, via, **kwargs) -> None:
    from krov.aid import services

    services.release_after_panic(user)
