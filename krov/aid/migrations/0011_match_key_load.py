from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("aid", "0010_requester_email_notice")]

    operations = [
        migrations.AddField(
            model_name="volunteermatchkey",
            name="free",
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name="volunteermatchkey",
            name="response",
            field=models.PositiveIntegerField(default=3600),
        ),
    ]
