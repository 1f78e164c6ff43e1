"""Setting the tenant of the current database transaction.

The tenant lives in the PostgreSQL setting `app.tenant_id`, set with
`set_config('app.tenant_id', <uuid>, true)`: the third argument makes it local
to the transaction, so it disappears at COMMIT/ROLLBACK and a pooled or
persistent connection never carries one request's tenant into the next.
Setting it outside a transaction would make it last for the whole session, so
set_current_tenant refuses to do that.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

CONTROLS: dict[str, str] = {
    "ISO-1": "the tenant is a transaction-local PostgreSQL setting (set_config(..., true)); never session-wide, never without a transaction",
    "SQL-2": "the tenant id is passed as a bound parameter",
}


class TenantContextError(RuntimeError):
    """The tenant was to be set outside a transaction (it would leak to the next user of the connection)."""


def set_current_tenant(tenant_id: uuid.UUID | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make `tenant_id` the tenant of the current transaction (None: no tenant, no tenant rows)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TenantContextError("the tenant can only be set inside transaction.atomic()")
    value = "" if tenant_id is None else str(uuid.UUID(str(tenant_id)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [value])


def current_tenant(using: str = DEFAULT_DB_ALIAS) -> uuid.UUID | None:
    """The tenant of the current transaction, as the database sees it."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        row = cursor.fetchone()
    value = row[0] if row else None
    return uuid.UUID(value) if value else None


@contextmanager
def tenant_context(tenant_id: uuid.UUID | None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run a block in a transaction (or savepoint) whose tenant is `tenant_id`.

    For code outside a request: management commands, on_commit callbacks. On a
    normal exit the previous tenant is restored; on an exception the savepoint
    rollback restores it.
    """
    with transaction.atomic(using=using):
        previous = current_tenant(using)
        set_current_tenant(tenant_id, using)
        yield
        set_current_tenant(previous, using)
