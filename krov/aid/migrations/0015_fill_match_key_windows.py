from collections import defaultdict

from django.db import migrations


def fill(apps, schema_editor):
    """Every match key gets its volunteer's weekly windows, as `services.match_keys` writes
    them from now on (the format of `krov.aid.matching.windows_text`, written out here so
    the migration does not depend on code that may change)."""
    AvailabilityWindow = apps.get_model("aid", "AvailabilityWindow")
    VolunteerMatchKey = apps.get_model("aid", "VolunteerMatchKey")
    windows = defaultdict(list)
    for volunteer_id, weekday, start, end in AvailabilityWindow.objects.order_by(
        "volunteer_id", "weekday", "start", "end"
    ).values_list("volunteer_id", "weekday", "start", "end"):
        windows[volunteer_id].append(f"{weekday} {start.isoformat()} {end.isoformat()}")
    for volunteer_id, items in windows.items():
        VolunteerMatchKey.objects.filter(volunteer_id=volunteer_id).update(windows=",".join(items))


class Migration(migrations.Migration):
    dependencies = [("aid", "0014_match_key_windows")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
