from django.db import migrations


def mark(apps, schema_editor):
    """Custodians added before the flag existed: their accounts are service accounts."""
    User = apps.get_model("accounts", "User")
    Custodian = apps.get_model("aid", "Custodian")
    User.objects.filter(pk__in=Custodian.objects.values("user_id")).update(is_service_account=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_service_account"),
        ("aid", "0004_custodian"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
