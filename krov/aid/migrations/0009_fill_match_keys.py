from django.db import migrations


def fill(apps, schema_editor):
    """A key per skill and language of every existing volunteer, as the profile service
    writes them from now on."""
    VolunteerProfile = apps.get_model("aid", "VolunteerProfile")
    VolunteerSkill = apps.get_model("aid", "VolunteerSkill")
    VolunteerMatchKey = apps.get_model("aid", "VolunteerMatchKey")
    languages = dict(VolunteerProfile.objects.values_list("pk", "languages"))
    VolunteerMatchKey.objects.bulk_create(
        (
            VolunteerMatchKey(
                volunteer_id=volunteer_id, skill_id=skill_id, language=language, level=level
            )
            for volunteer_id, skill_id, level in VolunteerSkill.objects.values_list(
                "volunteer_id", "skill_id", "level"
            )
            for language in sorted(set(languages.get(volunteer_id) or []))
            if isinstance(language, str) and len(language) <= 8  # codes, as the service keeps
        ),
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("aid", "0008_volunteer_match_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
