"""Forced row-level security on the tenant-owned account tables (ISO-1).

Static SQL only (SQL-2). The policy applies to every command: USING filters
reads, updates and deletes; WITH CHECK refuses inserts and updates whose
company is not the current tenant. FORCE makes the table owner subject to it too.
"""

from django.db import migrations

RLS = """
ALTER TABLE accounts_invitation ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_invitation FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts_invitation
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());

ALTER TABLE accounts_loginchallenge ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_loginchallenge FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts_loginchallenge
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());

ALTER TABLE accounts_usersession ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_usersession FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts_usersession
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());
"""

DROP_RLS = """
DROP POLICY tenant_isolation ON accounts_invitation;
ALTER TABLE accounts_invitation NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_invitation DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON accounts_loginchallenge;
ALTER TABLE accounts_loginchallenge NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_loginchallenge DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON accounts_usersession;
ALTER TABLE accounts_usersession NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_usersession DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [migrations.RunSQL(RLS, DROP_RLS)]
