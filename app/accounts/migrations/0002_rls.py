"""Forced row-level security on the tenant-owned account tables (ISO-1).

The SQL is tenancy/rls.py's (literal templates, checked identifiers: SQL-2). The policy applies to every command: USING filters
reads, updates and deletes; WITH CHECK refuses inserts and updates whose
company is not the current tenant. FORCE makes the table owner subject to it too.
"""

from django.db import migrations

from tenancy import rls

TABLES = ("accounts_invitation", "accounts_loginchallenge", "accounts_usersession")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [rls.row_level_security(TABLES)]
