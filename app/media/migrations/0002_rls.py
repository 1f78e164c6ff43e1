"""Forced row-level security on the recordings table (ISO-1), the same policy as every tenant table.

The SQL is tenancy/rls.py's (literal templates, checked identifiers: SQL-2). USING filters reads, updates and deletes; WITH CHECK
refuses inserts and updates whose company is not the current tenant; FORCE
makes the table owner subject to it too.
"""

from django.db import migrations

from tenancy import rls

TABLES = ("media_recording",)


class Migration(migrations.Migration):
    dependencies = [
        ("media", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [rls.row_level_security(TABLES)]
