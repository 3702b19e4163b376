from django.db import migrations


def strip(apps, schema_editor):
    """A custodian's account acts only through its token: whatever an administrator gave it
    before service accounts existed (roles beyond member, role requests still waiting, a
    volunteer profile) goes, so it can neither open cases nor be offered them."""
    User = apps.get_model("accounts", "User")
    RoleGrant = apps.get_model("accounts", "RoleGrant")
    VolunteerProfile = apps.get_model("aid", "VolunteerProfile")
    accounts = User.objects.filter(is_service_account=True)
    for account in accounts:
        account.groups.remove(*account.groups.exclude(name="member"))
    RoleGrant.objects.filter(user__in=accounts, status="pending").update(status="refused")
    VolunteerProfile.objects.filter(user__in=accounts).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_service_account"),
        ("aid", "0006_critical_alert"),
    ]

    operations = [migrations.RunPython(strip, migrations.RunPython.noop)]
