"""Row-level security of a tenant table (ISO-1): the SQL every tenant migration runs, written once.

Each table gets the same forced policy: ENABLE and FORCE ROW LEVEL SECURITY (FORCE makes the table
owner subject to it too) and one policy `tenant_isolation` for every command, whose USING filters
reads, updates and deletes and whose WITH CHECK refuses inserts and updates of another tenant's
rows; the tenant is `kakoi_current_tenant()` (tenancy/migrations/0001_initial.py).

SQL-2: the SQL is built from literal templates and identifiers only, and every identifier must be a
plain lower-case SQL identifier (checked here, so nothing else can reach the statement). The app's
static scan (app/tests/test_static_scan.py) accepts `enable_sql`/`disable_sql` as SQL sources for
that reason, and only from this module. The text is byte for byte what the migrations wrote out by
hand before (proved with `manage.py sqlmigrate`), so migrations already applied are unaffected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import migrations

#: the column that holds the tenant of a row
TENANT_COLUMN = "company_id"
POLICY = "tenant_isolation"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_ENABLE = """ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY {policy} ON {table}
    USING ({column} = kakoi_current_tenant())
    WITH CHECK ({column} = kakoi_current_tenant());
"""
_DISABLE = """DROP POLICY {policy} ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


def _identifiers(tables: Sequence[str], column: str) -> None:
    if isinstance(tables, str) or not tables:
        raise ValueError("tables must be a non-empty sequence of table names")
    for name in (*tables, column):
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lower-case SQL identifier")


def enable_sql(tables: Sequence[str], column: str = TENANT_COLUMN) -> str:
    """ENABLE + FORCE row-level security and the tenant policy on each table, in order."""
    _identifiers(tables, column)
    return "\n" + "\n".join(_ENABLE.format(table=t, column=column, policy=POLICY) for t in tables)


def disable_sql(tables: Sequence[str], column: str = TENANT_COLUMN) -> str:
    """The reverse of `enable_sql`: drop the policy, NO FORCE, DISABLE, tables in reverse order."""
    _identifiers(tables, column)
    return "\n" + "".join(_DISABLE.format(table=t, policy=POLICY) for t in reversed(tables))


def row_level_security(tables: Sequence[str], column: str = TENANT_COLUMN) -> migrations.RunSQL:
    """The migration operation that puts `tables` under the tenant policy (and takes them out on reverse)."""
    return migrations.RunSQL(enable_sql(tables, column), disable_sql(tables, column))
