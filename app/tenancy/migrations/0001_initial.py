"""The tenant table, the tenant function and the company's own row-level security.

All SQL here is static text (SQL-2): no formatting, no parameters.
"""

import uuid

from django.db import migrations, models

CURRENT_TENANT_FUNCTION = """
CREATE FUNCTION kakoi_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
COMMENT ON FUNCTION kakoi_current_tenant() IS
    'The tenant of the current transaction (set_config(''app.tenant_id'', ..., true)); NULL when none is set, so RLS policies match no row.';
"""

DROP_CURRENT_TENANT_FUNCTION = "DROP FUNCTION kakoi_current_tenant();"

COMPANY_RLS = """
ALTER TABLE tenancy_company ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy_company FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenancy_company
    USING (id = kakoi_current_tenant())
    WITH CHECK (id = kakoi_current_tenant());
"""

DROP_COMPANY_RLS = """
DROP POLICY tenant_isolation ON tenancy_company;
ALTER TABLE tenancy_company NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tenancy_company DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Company",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name_plural": "companies"},
        ),
        migrations.RunSQL(CURRENT_TENANT_FUNCTION, DROP_CURRENT_TENANT_FUNCTION),
        migrations.RunSQL(COMPANY_RLS, DROP_COMPANY_RLS),
    ]
