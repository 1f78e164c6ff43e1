"""The tenant table, the tenant function and the company's own row-level security.

The function's SQL is static text (SQL-2); the row-level security is tenancy/rls.py's (literal
templates, checked identifiers).
"""

import uuid

from django.db import migrations, models

from tenancy import rls

CURRENT_TENANT_FUNCTION = """
CREATE FUNCTION kakoi_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
COMMENT ON FUNCTION kakoi_current_tenant() IS
    'The tenant of the current transaction (set_config(''app.tenant_id'', ..., true)); NULL when none is set, so RLS policies match no row.';
"""

DROP_CURRENT_TENANT_FUNCTION = "DROP FUNCTION kakoi_current_tenant();"

#: the company row is its own tenant: the policy's column is its id
COMPANY_TABLES = ("tenancy_company",)


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
        rls.row_level_security(COMPANY_TABLES, column="id"),
    ]
