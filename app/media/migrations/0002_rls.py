"""Forced row-level security on the recordings table (ISO-1), the same policy as every tenant table.

Static SQL only (SQL-2). USING filters reads, updates and deletes; WITH CHECK
refuses inserts and updates whose company is not the current tenant; FORCE
makes the table owner subject to it too.
"""

from django.db import migrations

RLS = """
ALTER TABLE media_recording ENABLE ROW LEVEL SECURITY;
ALTER TABLE media_recording FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON media_recording
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());
"""

DROP_RLS = """
DROP POLICY tenant_isolation ON media_recording;
ALTER TABLE media_recording NO FORCE ROW LEVEL SECURITY;
ALTER TABLE media_recording DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("media", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [migrations.RunSQL(RLS, DROP_RLS)]
