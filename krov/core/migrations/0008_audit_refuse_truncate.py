"""On PostgreSQL, TRUNCATE of the audit log is refused like UPDATE and DELETE.

Only a session that sets `krov.audit_truncate = 'allow'` may truncate it: the test suite's
flush between tests does; Krov itself never does.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION krov_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('krov.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION krov_audit_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS krov_audit_no_truncate();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0007_audit_chain_existing_rows")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
