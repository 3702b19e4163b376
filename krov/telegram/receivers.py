from __future__ import annotations


def connect() -> None:
    """Plug the Telegram channel into aid and the notification outbox."""
    from krov.accounts.services import panic_pressed, second_factor_lost
    from krov.aid import services as aid
    from krov.core import notify
    from krov.telegram import outbox_keys, services

    aid.register_relay("telegram", services.relay_to_requester)
    aid.register_volunteer_relay(services.relay_to_volunteer)
    aid.register_resealer("telegram", outbox_keys.waiting_for_readers, outbox_keys.reseal)
    aid.register_attachment_fetcher("telegram", services.fetch_attachment)
    notify.register_channel("telegram", services.notification_wants, services.send_notification)
    panic_pressed.connect(_lock_on_panic, dispatch_uid="telegram-unlink-on-panic")
    second_factor_lost.connect(_unlink_on_panic, dispatch_uid="telegram-unlink-without-mfa")
    aid.case_purged.connect(_forget_case_chat, dispatch_uid="telegram-forget-purged-case")


def _unlink_on_panic(sender, *, user, **kwargs) -> None:
    from krov.aid.models import VolunteerProfile
    from krov.telegram import services

    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is not None:
        services.unlink(profile)


def _lock_on_panic(sender, *, user, **kwargs) -> None:
    from krov.aid.models import VolunteerProfile
    from krov.telegram import services

    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is not None:
        services.lock_chats(profile)


def _forget_case_chat(sender, *, case, contact_in_use, **kwargs) -> None:
    """A purged case leaves no chat behind: the requester's chat row (with its encrypted chat
    id) goes, unless it belongs to a volunteer or already serves another open case."""
    from krov.telegram import services

    services.forget_case_chats(case, contact_in_use=contact_in_use)
