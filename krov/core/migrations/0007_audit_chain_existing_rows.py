"""Chain the audit rows written before the hash chain existed, oldest first."""

from django.db import migrations


def chain(apps, schema_editor):
    from krov.core.audit import GENESIS, chain_hash

    AuditEvent = apps.get_model("core", "AuditEvent")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
        )
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        row_hash = chain_hash(prev, event)
        # QuerySet.update is refused by the model's manager; the historical one allows it.
        AuditEvent._base_manager.filter(pk=event.pk).update(prev_hash=prev, row_hash=row_hash)
        prev = row_hash
    if postgres:
        schema_editor.execute(
            "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only"
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0006_audit_hash_chain")]

    operations = [migrations.RunPython(chain, migrations.RunPython.noop)]
