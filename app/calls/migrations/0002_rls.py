"""Forced row-level security on the call tables (ISO-1), the same policy as every tenant table.

Static SQL only (SQL-2). USING filters reads, updates and deletes; WITH CHECK refuses inserts
and updates whose company is not the current tenant; FORCE makes the table owner subject to it too.
"""

from django.db import migrations

RLS = """
ALTER TABLE calls_room ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls_room FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls_room
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());

ALTER TABLE calls_participant ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls_participant FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls_participant
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());
"""

DROP_RLS = """
DROP POLICY tenant_isolation ON calls_participant;
ALTER TABLE calls_participant NO FORCE ROW LEVEL SECURITY;
ALTER TABLE calls_participant DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON calls_room;
ALTER TABLE calls_room NO FORCE ROW LEVEL SECURITY;
ALTER TABLE calls_room DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [migrations.RunSQL(RLS, DROP_RLS)]
