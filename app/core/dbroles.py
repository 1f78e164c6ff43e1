"""The database roles contract (docs/database-roles.md), as code.

Run with the master credentials (RDS: `kakoi_admin`; locally and in tests the
`postgres` superuser) before every `migrate`:

- `kakoi_owner`: LOGIN, owns the schema `kakoi` and every table in it; used only by migrations.
- `kakoi_web`: LOGIN, NOSUPERUSER, NOBYPASSRLS, NOCREATEDB, NOCREATEROLE, NOREPLICATION,
  member of no role, owner of nothing; CONNECT on the database, USAGE on the schema,
  SELECT/INSERT/UPDATE/DELETE on tables and USAGE on sequences (existing ones and,
  through default privileges, every one the owner creates later).

Every step is idempotent. Passwords are sent to the server only as SCRAM-SHA-256
verifiers computed by libpq on the client, so no clear-text password appears in
server logs. All statements are composed with psycopg.sql (Identifier/Literal),
never with string formatting.

Passwords: when a role's secret ARN is configured, the password stored there is
reused (rotation only with `rotate=True`), so running this before each deploy
does not break running web tasks; when it is missing or empty a new random one
is generated. The secret value is the RDS secret JSON
{"engine","host","port","dbname","username","password"}.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kakoi import contract
from psycopg import sql

CONTROLS: dict[str, str] = {
    "SQL-3": "separate owner (migrations) and web (DML only, no BYPASSRLS, no ownership) roles, created and verified idempotently",
    "ISO-1": "the web role cannot bypass row-level security: NOBYPASSRLS, NOSUPERUSER, owns no table (FORCE RLS covers the owner too)",
    "SQL-2": "role DDL is composed with psycopg.sql.Identifier/Literal; no string-built SQL",
}

OWNER_ROLE = contract.DB_OWNER_ROLE
WEB_ROLE = contract.DB_WEB_ROLE
SCHEMA = "kakoi"


class RoleSafetyError(RuntimeError):
    """A role has an attribute the contract forbids and this connection cannot remove it."""


@dataclass(frozen=True)
class Connection:
    """Where and as whom to connect (the master credentials)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = ""
    sslmode: str = "prefer"
    sslrootcert: str = ""

    def connect(self, dbname: str | None = None) -> psycopg.Connection[Any]:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": dbname or self.dbname,
            "user": self.user,
            "sslmode": self.sslmode,
            "application_name": "kakoi-ensure-db-roles",
            "autocommit": True,
        }
        if self.password:
            params["password"] = self.password
        if self.sslrootcert:
            params["sslrootcert"] = self.sslrootcert
        return psycopg.connect(**params)


@dataclass(frozen=True)
class RoleResult:
    owner_password: str
    web_password: str
    actions: list[str] = field(default_factory=list)


def new_password() -> str:
    return secrets.token_urlsafe(32)


def ensure_database(conn_info: Connection) -> bool:
    """Create the database if it is missing (local runs and tests; on RDS it already exists). True if created."""
    with conn_info.connect(dbname="postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [conn_info.dbname]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(conn_info.dbname)))
        return True


def _scram(conn: psycopg.Connection[Any], role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password`, computed by libpq (PQencryptPasswordConn)."""
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def _is_superuser(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def _ensure_login_role(conn: psycopg.Connection[Any], role: str, password: str, actions: list[str]) -> None:
    verifier = _scram(conn, role, password)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    if not exists:
        try:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT PASSWORD {}"
                ).format(sql.Identifier(role), sql.Literal(verifier))
            )
            actions.append(f"created role {role}")
            return
        except psycopg.errors.DuplicateObject:
            pass  # created concurrently: fall through to ALTER
    # NOSUPERUSER/NOBYPASSRLS/NOREPLICATION are not repeated here: PostgreSQL lets only a true
    # superuser mention them in ALTER ROLE (RDS's master is not one). They are verified below instead.
    conn.execute(
        sql.SQL("ALTER ROLE {} WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(verifier)
        )
    )
    actions.append(f"updated role {role}")


def _verify_attributes(conn: psycopg.Connection[Any], superuser: bool, actions: list[str]) -> None:
    rows = conn.execute(
        "SELECT rolname, rolsuper, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = ANY(%s)",
        [[OWNER_ROLE, WEB_ROLE]],
    ).fetchall()
    for rolname, rolsuper, rolbypassrls, rolreplication in rows:
        if rolsuper or rolbypassrls or rolreplication:
            if not superuser:
                raise RoleSafetyError(f"role {rolname} is SUPERUSER, BYPASSRLS or REPLICATION and this connection cannot fix it")
            conn.execute(sql.SQL("ALTER ROLE {} WITH NOSUPERUSER NOBYPASSRLS NOREPLICATION").format(sql.Identifier(rolname)))
            actions.append(f"removed SUPERUSER/BYPASSRLS/REPLICATION from {rolname}")
    # The web role inherits nothing from anyone: drop every membership it has.
    granted = conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        [WEB_ROLE],
    ).fetchall()
    for (group,) in granted:
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), sql.Identifier(WEB_ROLE)))
        actions.append(f"revoked membership of {WEB_ROLE} in {group}")


def _grant_owner_to_master(conn: psycopg.Connection[Any]) -> bool:
    """The master (RDS: not a superuser) needs the owner's rights to create its schema, grant on its
    tables and set its default privileges. PostgreSQL 16 split membership into ADMIN/INHERIT/SET
    (the creator of a role gets only ADMIN), so there both INHERIT and SET are checked and granted."""
    if conn.info.server_version >= 160000:
        row = conn.execute(
            "SELECT pg_has_role(current_user, %s, 'USAGE') AND pg_has_role(current_user, %s, 'SET')", [OWNER_ROLE, OWNER_ROLE]
        ).fetchone()
        if row and row[0]:
            return False
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE").format(sql.Identifier(OWNER_ROLE)))
        return True
    row = conn.execute("SELECT pg_has_role(current_user, %s, 'USAGE')", [OWNER_ROLE]).fetchone()
    if row and row[0]:
        return False
    conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(OWNER_ROLE)))
    return True


def ensure_roles(conn: psycopg.Connection[Any], *, dbname: str, owner_password: str, web_password: str) -> RoleResult:
    """Create or update both roles, the schema and the grants. `conn`: master user, connected to `dbname`."""
    actions: list[str] = []
    owner, web, schema, database = (sql.Identifier(name) for name in (OWNER_ROLE, WEB_ROLE, SCHEMA, dbname))
    with conn.transaction():
        superuser = _is_superuser(conn)
        _ensure_login_role(conn, OWNER_ROLE, owner_password, actions)
        _ensure_login_role(conn, WEB_ROLE, web_password, actions)
        _verify_attributes(conn, superuser, actions)

        if not superuser and _grant_owner_to_master(conn):
            actions.append(f"granted {OWNER_ROLE} to the master user")

        # Database: only the two roles (and the master, its owner) may connect; nobody gets TEMP.
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(database, owner, web))

        # Schema: owned by the owner role; the web role may only use it, never create in it.
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, owner))
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, web))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        for role in (owner, web):
            conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path TO {}").format(role, database, schema))

        # Tables and sequences that exist already ...
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, web))
        conn.execute(sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, web))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, web))
        conn.execute(sql.SQL("REVOKE SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, web))
        # ... and every one the owner creates from now on.
        conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(
                owner, schema, web
            )
        )
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE ON SEQUENCES TO {}").format(owner, schema, web))
        actions.append(f"schema {SCHEMA} owned by {OWNER_ROLE}; DML grants and default privileges for {WEB_ROLE}")
    return RoleResult(owner_password=owner_password, web_password=web_password, actions=actions)


# --- Secrets Manager -------------------------------------------------------------------------


def read_secret_password(client: Any, arn: str) -> str | None:
    """The password stored in a role secret, or None when the secret has no (usable) value yet."""
    try:
        value = client.get_secret_value(SecretId=arn)
    except client.exceptions.ResourceNotFoundException:
        return None
    try:
        password = json.loads(value.get("SecretString") or "{}").get("password")
    except ValueError:
        return None
    return password if isinstance(password, str) and password else None


def secret_value(*, host: str, port: int, dbname: str, username: str, password: str) -> str:
    """The RDS secret JSON format."""
    return json.dumps(
        {"engine": "postgres", "host": host, "port": port, "dbname": dbname, "username": username, "password": password},
        sort_keys=True,
    )


def write_secret(client: Any, arn: str, *, host: str, port: int, dbname: str, username: str, password: str) -> None:
    client.put_secret_value(
        SecretId=arn,
        SecretString=secret_value(host=host, port=port, dbname=dbname, username=username, password=password),
    )


def provision(
    conn_info: Connection,
    *,
    secret_arns: Mapping[str, str],
    secrets_client: Any = None,
    rotate: bool = False,
    create_database: bool = False,
    secret_host: str | None = None,
) -> RoleResult:
    """The whole `ensure_db_roles` run: passwords (reused or new), roles and grants, then the secrets.

    `secret_arns` maps OWNER_ROLE/WEB_ROLE to secret ARNs (either may be missing).
    """
    if create_database:
        ensure_database(conn_info)
    passwords: dict[str, str] = {}
    for role in (OWNER_ROLE, WEB_ROLE):
        arn = secret_arns.get(role)
        existing = read_secret_password(secrets_client, arn) if (arn and secrets_client is not None and not rotate) else None
        passwords[role] = existing or new_password()
    with conn_info.connect() as conn:
        result = ensure_roles(conn, dbname=conn_info.dbname, owner_password=passwords[OWNER_ROLE], web_password=passwords[WEB_ROLE])
    for role in (OWNER_ROLE, WEB_ROLE):
        arn = secret_arns.get(role)
        if arn and secrets_client is not None:
            write_secret(
                secrets_client,
                arn,
                host=secret_host or conn_info.host,
                port=conn_info.port,
                dbname=conn_info.dbname,
                username=role,
                password=passwords[role],
            )
            result.actions.append(f"wrote the {role} secret")
    return result
