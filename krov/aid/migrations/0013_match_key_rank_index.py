from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("aid", "0012_fill_match_key_load")]

    operations = [
        migrations.RemoveIndex(model_name="volunteermatchkey", name="aid_matchkey_walk"),
        migrations.AddIndex(
            model_name="volunteermatchkey",
            index=models.Index(
                fields=["skill", "language", "-level", "-free", "response", "volunteer"],
                name="aid_matchkey_rank",
            ),
        ),
    ]
