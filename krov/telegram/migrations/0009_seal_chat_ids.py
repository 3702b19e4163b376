"""Chats found by a memory-hard key instead of a keyed hash, and requesters' chat ids no
longer under the field keys: sealed to the running workers on the chat, and to the case's
key on each sealed case (krov.telegram.chat_ids). Linked volunteers' chats keep theirs.

Updates already processed lose their old keyed hash (it opened with the server's secret).
The old field-key ciphertext may survive in the WAL and in backups: rotate the field keys
afterwards (`krov rotate-keys`), as after sealing cases."""

import json
from datetime import timedelta

from django.db import migrations
from django.utils import timezone
from django.utils.crypto import salted_hmac


def _old_lookup(number: int) -> str:
    return salted_hmac("krov.aid.contact", str(number), algorithm="sha256").hexdigest()


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def seal_chat_ids(apps, schema_editor):
    from krov.core import sealing
    from krov.telegram import chat_ids, intake

    Chat = apps.get_model("telegram", "Chat")
    Update = apps.get_model("telegram", "Update")
    OutboxKey = apps.get_model("telegram", "OutboxKey")
    HelpRequest = apps.get_model("aid", "HelpRequest")
    since = timezone.now() - timedelta(minutes=3)
    live = list(OutboxKey.objects.filter(seen_at__gte=since).values_list("public", flat=True))

    def seal_contact(case, handle: str) -> str:
        if not case.seal_public or not handle or sealing.is_sealed(handle):
            return handle
        return sealing.seal(
            handle,
            case.seal_public,
            sealing.content_info(str(case.public_id), "request.contact"),
        )

    renamed: dict[str, str] = {}
    for chat in Chat.objects.all():
        number = _number(chat.chat_id)
        if number is None:
            continue
        key = chat_ids.chat_key(number)
        lookup = chat_ids.contact_lookup(key)
        renamed[chat.key] = key
        for case in HelpRequest.objects.filter(contact_lookup=_old_lookup(number)):
            HelpRequest.objects.filter(pk=case.pk).update(
                contact_lookup=lookup, contact_handle=seal_contact(case, case.contact_handle)
            )
        chat.key = key
        chat.contact_lookup = lookup
        chat.sealed_id = {
            public: sealing.seal(str(number), public, chat_ids.info(public, key)) for public in live
        }
        if chat.volunteer_id is None:
            chat.chat_id = ""
        chat.save()
    for update in Update.objects.exclude(chat_key=""):
        key = renamed.get(update.chat_key, "")
        if not key and update.status == "pending" and update.payload:
            number = intake.chat_id_of(json.loads(update.payload))
            key = chat_ids.chat_key(number) if number is not None else ""
        Update.objects.filter(pk=update.pk).update(chat_key=key)
    # Telegram cases whose chat is gone meanwhile: the lookup made from their contact while
    # it is still readable (the old one, a keyed hash of the id, would undo the new key),
    # and their contact sealed all the same.
    for case in HelpRequest.objects.filter(channel="telegram", purged_at__isnull=True):
        handle = case.contact_handle or ""
        number = None if sealing.is_sealed(handle) else _number(handle)
        lookup = case.contact_lookup
        if number is not None:
            lookup = chat_ids.contact_lookup(chat_ids.chat_key(number))
        elif lookup and not sealing.is_sealed(handle):
            lookup = ""
        sealed = seal_contact(case, handle)
        if sealed != handle or lookup != case.contact_lookup:
            HelpRequest.objects.filter(pk=case.pk).update(
                contact_handle=sealed, contact_lookup=lookup
            )


class Migration(migrations.Migration):
    dependencies = [
        ("telegram", "0008_chat_ids_sealed"),
        ("aid", "0009_fill_match_keys"),
    ]

    operations = [migrations.RunPython(seal_chat_ids, migrations.RunPython.noop)]
