"""ISO-1 / SQL-2: tenancy/rls.py, the one source of the tenant tables' row-level security SQL.

The migrations that use it were written out by hand before; the text must stay byte for byte what
they ran (an applied migration is never re-run, a new database must get the same policies)."""

from __future__ import annotations

import importlib

import pytest
from django.db import migrations
from tenancy import rls

#: what the migrations wrote out by hand for one table (calls/migrations/0002_rls.py before tenancy/rls.py)
ROOM_ENABLE = """
ALTER TABLE calls_room ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls_room FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls_room
    USING (company_id = kakoi_current_tenant())
    WITH CHECK (company_id = kakoi_current_tenant());
"""
ROOM_DISABLE = """
DROP POLICY tenant_isolation ON calls_room;
ALTER TABLE calls_room NO FORCE ROW LEVEL SECURITY;
ALTER TABLE calls_room DISABLE ROW LEVEL SECURITY;
"""


def test_iso1_rls_sql_is_the_hand_written_text():
    """ISO-1: one table's SQL is exactly the text the migrations ran before the helper."""
    assert rls.enable_sql(("calls_room",)) == ROOM_ENABLE
    assert rls.disable_sql(("calls_room",)) == ROOM_DISABLE


def test_iso1_rls_sql_covers_every_table_and_reverses_in_reverse_order():
    """ISO-1: every table gets ENABLE, FORCE and the policy; the reverse undoes the last table first."""
    forward = rls.enable_sql(("a_x", "b_y"), column="id")
    assert forward.count("FORCE ROW LEVEL SECURITY") == 2 and forward.count("CREATE POLICY tenant_isolation") == 2
    assert "USING (id = kakoi_current_tenant())" in forward and "company_id" not in forward
    assert forward.index("a_x") < forward.index("b_y")
    backward = rls.disable_sql(("a_x", "b_y"))
    assert backward.index("b_y") < backward.index("a_x")


@pytest.mark.parametrize("bad", ["x; DROP TABLE y", "Company", "a b", "", "1table", "t" * 64, 'x"'])
def test_sql2_rls_refuses_anything_but_a_plain_identifier(bad: str):
    """SQL-2: nothing but a plain lower-case identifier reaches the SQL (table or column)."""
    with pytest.raises(ValueError, match="identifier"):
        rls.enable_sql((bad,))
    with pytest.raises(ValueError, match="identifier"):
        rls.disable_sql(("ok_table",), column=bad)


def test_sql2_rls_refuses_a_string_for_the_table_list():
    """A bare string would be read as one table per character: refused."""
    with pytest.raises(ValueError, match="sequence"):
        rls.enable_sql("calls_room")


@pytest.mark.parametrize(
    ("module", "tables"),
    [
        ("tenancy.migrations.0001_initial", ("tenancy_company",)),
        ("accounts.migrations.0002_rls", ("accounts_invitation", "accounts_loginchallenge", "accounts_usersession")),
        ("media.migrations.0002_rls", ("media_recording",)),
        ("calls.migrations.0002_rls", ("calls_room", "calls_participant")),
    ],
)
def test_iso1_every_tenant_migration_uses_the_helper(module: str, tables: tuple[str, ...]):
    """ISO-1: the four migrations that put tables under row-level security do it through tenancy/rls.py."""
    operations = importlib.import_module(module).Migration.operations
    runs = [op for op in operations if isinstance(op, migrations.RunSQL) and "ROW LEVEL SECURITY" in str(op.sql)]
    [op] = runs
    column = "id" if tables == ("tenancy_company",) else rls.TENANT_COLUMN
    assert op.sql == rls.enable_sql(tables, column) and op.reverse_sql == rls.disable_sql(tables, column)
