"""Encrypt the TOTP secrets and recovery seeds allauth stored in plain form."""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    from cryptography.fernet import InvalidToken

    from krov.accounts.mfa_secrets import SECRET_KEYS, transform
    from krov.core import crypto

    def encrypt_once(value: str) -> str:
        try:
            crypto.decrypt(value)
        except (InvalidToken, ValueError, UnicodeError):
            return crypto.encrypt(value)
        return value  # already encrypted (the migration ran on part of the rows)

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=list(SECRET_KEYS)):
        authenticator.data = transform(authenticator.type, authenticator.data, encrypt_once)
        authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_role_grants"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
