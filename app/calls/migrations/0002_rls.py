"""Forced row-level security on the call tables (ISO-1), the same policy as every tenant table.

The SQL is tenancy/rls.py's (literal templates, checked identifiers: SQL-2). USING filters reads, updates and deletes; WITH CHECK refuses inserts
and updates whose company is not the current tenant; FORCE makes the table owner subject to it too.
"""

from django.db import migrations

from tenancy import rls

TABLES = ("calls_room", "calls_participant")


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [rls.row_level_security(TABLES)]
