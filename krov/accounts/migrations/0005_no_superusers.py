"""Krov has no superusers: a superuser passes every permission check (the admin pages of
email addresses and second factors included), which would let one person take accounts
over. Administrators keep their admin role; only the flag goes."""

from django.db import migrations


def drop_superuser_flag(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_superuser=True).update(is_superuser=False)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_encrypt_mfa_secrets")]

    operations = [migrations.RunPython(drop_superuser_flag, migrations.RunPython.noop)]
