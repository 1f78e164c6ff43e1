"""SQL-3: the web role is a separate login with DML rights only; ensure_db_roles is idempotent
and keeps the role secrets in Secrets Manager (moto)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import boto3
import psycopg
import pytest
from conftest import RoleSecrets, db_admin
from core import dbroles
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from psycopg import sql

TENANT_TABLES = ["tenancy_company", "accounts_invitation", "accounts_loginchallenge", "accounts_usersession"]


def query(sql_text: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params or [])
        return cursor.fetchall()


@pytest.mark.django_db
def test_sql3_tests_connect_as_the_web_role_itself():
    """SQL-3: the login role of this connection (session_user) is kakoi_web: no SET ROLE from a superuser."""
    assert query("SELECT session_user, current_user") == [("kakoi_web", "kakoi_web")]


@pytest.mark.django_db
def test_sql3_web_role_attributes():
    """SQL-3/ISO-1: kakoi_web is not superuser, cannot bypass RLS, create databases or roles, or replicate."""
    rows = query(
        "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication, rolinherit, rolcanlogin FROM pg_roles WHERE rolname = %s",
        ["kakoi_web"],
    )
    assert rows == [(False, False, False, False, False, False, True)]
    # Member of no role at all (so it inherits nobody's rights, in particular not the owner's).
    assert query("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'kakoi_web'") == [(0,)]


@pytest.mark.django_db
def test_sql3_owner_owns_every_table_and_the_web_role_owns_nothing():
    """SQL-3: every app table belongs to kakoi_owner; kakoi_web owns no object in the database."""
    owners = query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = %s", [dbroles.SCHEMA])
    assert owners == [("kakoi_owner",)]
    assert query("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", [dbroles.SCHEMA]) == [("kakoi_owner",)]
    assert query("SELECT count(*) FROM pg_class WHERE relowner = 'kakoi_web'::regrole") == [(0,)]


@pytest.mark.django_db
def test_sql3_web_role_has_dml_only_on_every_table():
    """SQL-3: SELECT/INSERT/UPDATE/DELETE on each table; no TRUNCATE, REFERENCES or TRIGGER."""
    tables = [t for (t,) in query("SELECT tablename FROM pg_tables WHERE schemaname = %s", [dbroles.SCHEMA])]
    assert set(TENANT_TABLES) <= set(tables)
    for table in tables:
        qualified = f"{dbroles.SCHEMA}.{table}"
        for privilege, expected in [
            ("SELECT", True),
            ("INSERT", True),
            ("UPDATE", True),
            ("DELETE", True),
            ("TRUNCATE", False),
            ("REFERENCES", False),
            ("TRIGGER", False),
        ]:
            assert query("SELECT has_table_privilege('kakoi_web', %s, %s)", [qualified, privilege]) == [(expected,)], (table, privilege)
    sequences = query("SELECT sequencename FROM pg_sequences WHERE schemaname = %s", [dbroles.SCHEMA])
    for (sequence,) in sequences:
        qualified = f"{dbroles.SCHEMA}.{sequence}"
        assert query("SELECT has_sequence_privilege('kakoi_web', %s, 'USAGE')", [qualified]) == [(True,)]
        assert query("SELECT has_sequence_privilege('kakoi_web', %s, 'UPDATE')", [qualified]) == [(False,)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE kakoi.intruder (id int)",
        "CREATE TABLE public.intruder (id int)",
        "CREATE TEMPORARY TABLE intruder (id int)",
        "ALTER TABLE accounts_invitation DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE accounts_invitation NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON accounts_invitation",
        "TRUNCATE accounts_invitation",
        "SET ROLE kakoi_owner",
        "CREATE ROLE intruder",
    ],
)
def test_sql3_web_role_cannot_change_the_schema_or_escape_rls(statement: str):
    """SQL-3/ISO-1: DDL, TRUNCATE, role switching and turning RLS off are all refused to kakoi_web."""
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.django_db
def test_iso1_web_role_cannot_switch_row_security_off_to_see_rows():
    """ISO-1: with row_security off, a query RLS would filter fails instead of returning rows."""
    with pytest.raises(ProgrammingError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL row_security = off")
        cursor.execute("SELECT count(*) FROM accounts_invitation")
    assert "row-level security" in str(error.value)


def _scram_matches(verifier: str, password: str) -> bool:
    """Check a SCRAM-SHA-256 verifier (RFC 5803 format used by PostgreSQL) against a password."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$", 1)
    iterations, salt = iterations_salt.split(":")
    stored_key, _server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)


def _password_verifier(role: str) -> str:
    with db_admin() as conn:
        row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role]).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def secrets_env(aws, settings, django_db_setup, role_secrets: RoleSecrets):
    """Two empty role secrets, as the stack creates them, and the ARNs in the settings."""
    client = boto3.client("secretsmanager", region_name=settings.AWS_REGION)
    owner = client.create_secret(Name="kakoi/test/db/owner")["ARN"]
    web = client.create_secret(Name="kakoi/test/db/web")["ARN"]
    settings.KAKOI_DB_OWNER_SECRET_ARN = owner
    settings.KAKOI_DB_WEB_SECRET_ARN = web
    yield client, owner, web
    # Leave the suite's connection settings matching the roles' current passwords.
    for arn, role in ((owner, "owner"), (web, "web")):
        password = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])["password"]
        setattr(role_secrets, f"{role}_password", password)
    settings.DATABASES["default"]["PASSWORD"] = role_secrets.web_password


def test_sql3_ensure_db_roles_writes_rds_format_secrets_and_is_idempotent(secrets_env):
    """SQL-3: ensure_db_roles fills the empty secrets (RDS JSON) with passwords that the roles really have;
    a second run keeps them (no surprise rotation), --rotate replaces them."""
    client, owner_arn, web_arn = secrets_env
    call_command("ensure_db_roles", verbosity=0)
    owner = json.loads(client.get_secret_value(SecretId=owner_arn)["SecretString"])
    web = json.loads(client.get_secret_value(SecretId=web_arn)["SecretString"])
    db = settings.DATABASES["default"]
    for value, role in ((owner, "kakoi_owner"), (web, "kakoi_web")):
        assert set(value) == {"engine", "host", "port", "dbname", "username", "password"}
        assert value["engine"] == "postgres" and value["username"] == role
        assert value["dbname"] == db["NAME"] and value["port"] == int(db["PORT"])
        assert len(value["password"]) >= 40
        verifier = _password_verifier(role)
        assert verifier.startswith("SCRAM-SHA-256$")
        assert _scram_matches(verifier, value["password"])
    assert owner["password"] != web["password"]

    call_command("ensure_db_roles", verbosity=0)
    again = json.loads(client.get_secret_value(SecretId=web_arn)["SecretString"])
    assert again["password"] == web["password"]
    assert _scram_matches(_password_verifier("kakoi_web"), web["password"])

    call_command("ensure_db_roles", "--rotate", verbosity=0)
    rotated = json.loads(client.get_secret_value(SecretId=web_arn)["SecretString"])
    assert rotated["password"] != web["password"]
    assert _scram_matches(_password_verifier("kakoi_web"), rotated["password"])
    assert not _scram_matches(_password_verifier("kakoi_web"), web["password"])


@pytest.fixture
def private_roles(django_db_setup, monkeypatch: pytest.MonkeyPatch):
    """A database and a pair of roles of this process alone, under the names dbroles provisions.

    Roles are global to the PostgreSQL cluster: weakening the shared kakoi_web (ALTER ROLE ...
    BYPASSRLS) switched row-level security off for every test process connected as kakoi_web on
    this machine until the repair ran, so a concurrent suite saw every tenant's rows (the flaky
    "rejected request wrote to the database" of test_media_fuzz). Tests that damage a role damage
    this private pair instead.
    """
    suffix = os.getpid()
    owner, web, database = f"kakoi_owner_t{suffix}", f"kakoi_web_t{suffix}", f"kakoi_test_roles_{suffix}"
    monkeypatch.setattr(dbroles, "OWNER_ROLE", owner)
    monkeypatch.setattr(dbroles, "WEB_ROLE", web)
    db = settings.DATABASES["default"]
    admin = dbroles.Connection(
        host=str(db["HOST"]),
        port=int(db["PORT"]),
        dbname=database,
        user=settings.KAKOI_DB_MASTER_USER,
        password=settings.KAKOI_DB_MASTER_PASSWORD,
    )

    def drop() -> None:
        with admin.connect(dbname="postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            for role in (web, owner):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    drop()
    yield admin
    drop()


def test_sql3_ensure_db_roles_repairs_a_weakened_web_role(private_roles: dbroles.Connection):
    """SQL-3: if someone gave the web role BYPASSRLS or membership in the owner role, the next run takes it away.

    Done on this process's own roles and database (private_roles), never on the shared kakoi_web.
    """
    web, owner = dbroles.WEB_ROLE, dbroles.OWNER_ROLE
    dbroles.provision(private_roles, secret_arns={}, create_database=True)
    with private_roles.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} BYPASSRLS CREATEDB").format(sql.Identifier(web)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(owner), sql.Identifier(web)))
        assert conn.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", [web]).fetchone() == (True,)
    result = dbroles.provision(private_roles, secret_arns={})
    with private_roles.connect() as conn:
        row = conn.execute("SELECT rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = %s", [web]).fetchone()
        members = conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [web, owner]).fetchone()
    assert row == (False, False)
    assert members == (False,)
    assert any("BYPASSRLS" in action for action in result.actions)


def test_sql3_role_ddl_refuses_to_run_without_master_credentials(settings):
    """SQL-3: ensure_db_roles needs the master user explicitly; the web settings alone cannot run it."""
    from django.core.management.base import CommandError

    settings.KAKOI_DB_MASTER_USER = ""
    with pytest.raises(CommandError, match="DATABASE_MASTER_USER"):
        call_command("ensure_db_roles", verbosity=0)


def test_sql3_web_role_login_cannot_read_the_password_hashes(django_db_setup, role_secrets: RoleSecrets):
    """SQL-3: a separate psycopg login as kakoi_web (not Django's) cannot read pg_authid."""
    db = settings.DATABASES["default"]
    with (
        psycopg.connect(
            host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user="kakoi_web", password=role_secrets.web_password, autocommit=True
        ) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT rolpassword FROM pg_authid")


@pytest.fixture
def rds_like_master(django_db_setup, role_secrets: RoleSecrets):
    """A master user like RDS's: LOGIN CREATEROLE, not a superuser, owner of its database."""
    name, database = "kakoi_test_master", f"kakoi_test_master_{os.getpid()}"
    with db_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
        conn.execute("DROP ROLE IF EXISTS kakoi_test_master")
        conn.execute("CREATE ROLE kakoi_test_master LOGIN CREATEROLE NOSUPERUSER")
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER kakoi_test_master").format(sql.Identifier(database)))
    admin = dbroles.Connection(
        host=str(settings.DATABASES["default"]["HOST"]), port=int(settings.DATABASES["default"]["PORT"]), dbname=database, user=name
    )
    yield admin
    with db_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute("REVOKE kakoi_owner FROM kakoi_test_master")
        conn.execute("DROP ROLE kakoi_test_master")
    # The run changed the roles' passwords: keep the suite's connection settings in step.
    settings.DATABASES["default"]["PASSWORD"] = role_secrets.web_password


def test_sql3_ensure_db_roles_works_for_a_master_that_is_not_superuser(rds_like_master, role_secrets: RoleSecrets):
    """SQL-3: as on RDS (master = CREATEROLE, not superuser), ensure_db_roles creates the schema for the owner,
    grants the web role DML and sets the default privileges."""
    result = dbroles.provision(rds_like_master, secret_arns={})
    role_secrets.owner_password, role_secrets.web_password = result.owner_password, result.web_password
    assert any("granted kakoi_owner to the master user" in action for action in result.actions)
    with psycopg.connect(
        host=rds_like_master.host, port=rds_like_master.port, dbname=rds_like_master.dbname, user="postgres", autocommit=True
    ) as conn:
        assert conn.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'kakoi'").fetchone() == ("kakoi_owner",)
        privileges = conn.execute(
            "SELECT defaclobjtype, array_to_string(defaclacl, ',') FROM pg_default_acl WHERE defaclrole = 'kakoi_owner'::regrole"
        ).fetchall()
        assert ("r", "kakoi_web=arwd/kakoi_owner") in privileges
        assert ("S", "kakoi_web=U/kakoi_owner") in privileges
        assert conn.execute("SELECT has_database_privilege('kakoi_web', current_database(), 'TEMP')").fetchone() == (False,)
    # Idempotent: a second run changes nothing that matters and does not fail.
    again = dbroles.provision(rds_like_master, secret_arns={})
    role_secrets.owner_password, role_secrets.web_password = again.owner_password, again.web_password
    assert not any("granted" in action for action in again.actions)
