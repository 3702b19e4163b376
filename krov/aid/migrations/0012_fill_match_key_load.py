from django.db import migrations


def fill(apps, schema_editor):
    """Every match key gets its volunteer's load, as `services.match_keys` writes it from
    now on (the same arithmetic as `krov.aid.matching.free_share`, written out here so the
    migration does not depend on code that may change)."""
    VolunteerProfile = apps.get_model("aid", "VolunteerProfile")
    VolunteerMatchKey = apps.get_model("aid", "VolunteerMatchKey")
    rows = VolunteerProfile.objects.filter(match_keys__isnull=False).distinct()
    for pk, max_cases, open_cases, response in rows.values_list(
        "pk", "max_cases", "open_cases", "response_seconds"
    ).iterator():
        VolunteerMatchKey.objects.filter(volunteer_id=pk).update(
            free=(max_cases - open_cases) / max_cases if max_cases else 0.0,
            response=3600 if response is None else response,
        )


class Migration(migrations.Migration):
    dependencies = [("aid", "0011_match_key_load")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
