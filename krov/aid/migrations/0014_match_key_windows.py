from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("aid", "0013_match_key_rank_index")]

    operations = [
        migrations.AddField(
            model_name="volunteermatchkey",
            name="windows",
            field=models.TextField(blank=True, default=""),
        ),
    ]
