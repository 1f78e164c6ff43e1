"""ISO-1 at the SQL level, as kakoi_web: no tenant, no rows; another tenant's rows are invisible;
writes into another tenant are refused (WITH CHECK)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from accounts.models import Invitation, LoginChallenge, UserSession
from conftest import RoleSecrets, Tenant
from core import dbroles
from django.conf import settings
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.utils import timezone
from psycopg import sql
from tenancy.db import TenantContextError, current_tenant, set_current_tenant, tenant_context
from tenancy.models import Company

# Tables with a company_id column that are deliberately not tenant-scoped: the identity table is
# read before the tenant is known (login by email, session -> user -> tenant). Adding a table here
# needs a reason in accounts/models.py.
NOT_TENANT_SCOPED = {"accounts_user"}

# The tenant column of the tenant table itself; every other tenant-owned table uses company_id.
TENANT_COLUMN = {"tenancy_company": "id"}


def fetch(sql_text: str | sql.Composable, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params or [])
        return cursor.fetchall()


@pytest.fixture
def two_tenants(tenant_a: Tenant, tenant_b: Tenant) -> tuple[Tenant, Tenant]:
    """Both tenants with a row in every tenant table."""
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant.company.pk):
            LoginChallenge.objects.create(
                company=tenant.company, user=tenant.manager, method="email", expires_at=timezone.now() + timedelta(minutes=5)
            )
            UserSession.objects.create(company=tenant.company, user=tenant.manager, session_key=uuid.uuid4().hex)
    return tenant_a, tenant_b


def tenant_tables() -> list[str]:
    """Every table with a company column (found in the catalog, so new apps are covered), plus the tenant table."""
    tables = {
        t
        for (t,) in fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = %s AND column_name = 'company_id'", [dbroles.SCHEMA]
        )
    }
    return sorted((tables - NOT_TENANT_SCOPED) | {"tenancy_company"})


def test_iso1_every_tenant_table_has_a_forced_policy_on_reads_and_writes(db):
    """ISO-1: every table with a company column has RLS enabled and FORCED, with USING and WITH CHECK on the tenant."""
    tables = tenant_tables()
    assert {"tenancy_company", "accounts_invitation", "accounts_loginchallenge", "accounts_usersession"} <= set(tables)
    for table in tables:
        rows = fetch(
            "SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            [dbroles.SCHEMA, table],
        )
        assert rows == [(True, True)], table
        policies = fetch(
            "SELECT cmd, permissive, qual, with_check FROM pg_policies WHERE schemaname = %s AND tablename = %s", [dbroles.SCHEMA, table]
        )
        assert len(policies) == 1, table
        cmd, permissive, qual, with_check = policies[0]
        assert cmd == "ALL" and permissive == "PERMISSIVE"
        column = TENANT_COLUMN.get(table, "company_id")
        assert qual == with_check == f"({column} = kakoi_current_tenant())", table


def test_iso1_no_tenant_set_means_no_rows(two_tenants):
    """ISO-1: fail-closed: without a tenant every tenant table looks empty to the web role."""
    a, _ = two_tenants
    with tenant_context(a.company.pk):  # the rows are there ...
        for table in ("tenancy_company", "accounts_invitation", "accounts_loginchallenge", "accounts_usersession"):
            assert fetch(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))) == [(1,)], table
    with transaction.atomic():  # ... and invisible without a tenant
        set_current_tenant(None)
        for table in tenant_tables():
            assert fetch(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))) == [(0,)], table
        assert Company.objects.count() == 0
        assert Invitation.objects.count() == 0


def test_iso1_a_tenant_sees_only_its_own_rows(two_tenants):
    """ISO-1: with tenant A set, B's rows are invisible in every tenant table, whatever the query says."""
    a, b = two_tenants
    with tenant_context(a.company.pk):
        assert list(Company.objects.values_list("pk", flat=True)) == [a.company.pk]
        assert set(Invitation.objects.values_list("company_id", flat=True)) == {a.company.pk}
        assert set(LoginChallenge.objects.values_list("company_id", flat=True)) == {a.company.pk}
        assert set(UserSession.objects.values_list("company_id", flat=True)) == {a.company.pk}
        # Asking for B explicitly does not help.
        assert not Invitation.objects.filter(company_id=b.company.pk).exists()
        assert fetch("SELECT count(*) FROM accounts_invitation WHERE company_id = %s", [b.company.pk]) == [(0,)]
        assert fetch("SELECT count(*) FROM tenancy_company WHERE id = %s", [b.company.pk]) == [(0,)]


def test_iso1_insert_into_another_tenant_is_refused(two_tenants):
    """ISO-1: WITH CHECK: as tenant A, a row for B cannot be inserted (ORM or SQL)."""
    a, b = two_tenants
    with tenant_context(a.company.pk):
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Invitation.objects.create(company=b.company, email="x@example.com", nonce_hash="n", expires_at=timezone.now())
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            fetch(
                "INSERT INTO accounts_usersession (id, company_id, user_id, session_key, created_at) VALUES (%s, %s, %s, %s, now()) RETURNING id",
                [uuid.uuid4(), b.company.pk, b.manager.pk, "k" * 32],
            )
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Company.objects.create(pk=uuid.uuid4(), name="smuggled")


def test_iso1_without_tenant_nothing_can_be_inserted(two_tenants):
    """ISO-1: fail-closed for writes too: with no tenant, no tenant row can be written."""
    a, _ = two_tenants
    with transaction.atomic():
        set_current_tenant(None)
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Invitation.objects.create(company_id=a.company.pk, email="x@example.com", nonce_hash="n", expires_at=timezone.now())


def test_iso1_update_and_delete_cannot_reach_or_move_rows_across_tenants(two_tenants):
    """ISO-1: B's rows cannot be updated or deleted from A; A's rows cannot be moved to B."""
    a, b = two_tenants
    with tenant_context(a.company.pk):
        assert Invitation.objects.filter(pk=b.invitation.pk).update(email="hijacked@example.com") == 0
        assert fetch("UPDATE accounts_invitation SET email = 'hijacked@example.com' WHERE id = %s RETURNING id", [b.invitation.pk]) == []
        assert fetch("DELETE FROM accounts_invitation WHERE company_id = %s RETURNING id", [b.company.pk]) == []
        assert fetch("DELETE FROM tenancy_company WHERE id = %s RETURNING id", [b.company.pk]) == []
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Invitation.objects.filter(pk=a.invitation.pk).update(company_id=b.company.pk)
    with tenant_context(b.company.pk):
        b.invitation.refresh_from_db()
        assert b.invitation.email == "invitee-b@example.com"
        assert Company.objects.filter(pk=b.company.pk).exists()


def test_iso1_malformed_tenant_setting_fails_closed(db):
    """ISO-1: a tenant value that is not a UUID makes every tenant query fail, not match everything."""
    with pytest.raises(DatabaseError, match="uuid"), transaction.atomic():
        fetch("SELECT set_config('app.tenant_id', %s, true)", ["' OR 1=1 --"])
        fetch("SELECT count(*) FROM accounts_invitation")


def test_iso1_tenant_is_never_set_outside_a_transaction(django_db_setup, django_db_blocker):
    """ISO-1: set_current_tenant refuses to run in autocommit (the setting would outlive the request)."""
    with django_db_blocker.unblock():
        assert not connection.in_atomic_block
        with pytest.raises(TenantContextError):
            set_current_tenant(uuid.uuid4())
        connection.close()


def test_iso1_tenant_setting_does_not_survive_the_transaction(django_db_setup, role_secrets: RoleSecrets):
    """ISO-1: on a persistent kakoi_web connection, the tenant set in one transaction is gone in the next."""
    db = settings.DATABASES["default"]
    tenant = str(uuid.uuid4())
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user="kakoi_web", password=role_secrets.web_password, autocommit=True
    ) as conn:
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", [tenant])
            assert conn.execute("SELECT kakoi_current_tenant()::text").fetchone() == (tenant,)
        assert conn.execute("SELECT kakoi_current_tenant()").fetchone() == (None,)


def test_iso1_tenant_context_restores_the_previous_tenant(two_tenants):
    """ISO-1: nested tenant contexts (commands, callbacks) restore the outer tenant on exit."""
    a, b = two_tenants
    with tenant_context(a.company.pk):
        with tenant_context(b.company.pk):
            assert current_tenant() == b.company.pk
        assert current_tenant() == a.company.pk
        assert list(Company.objects.values_list("pk", flat=True)) == [a.company.pk]
