"""PostgreSQL row-level security: the database's own wall behind the ORM's tenant scope.

The policy of each tenant-owned table compares `tenant_id` with the per-transaction
setting `app.tenant_id`; `set_tenant_on()` sets it for a connection's current transaction.
"""
from __future__ import annotations

from sqlalchemy import text


def set_tenant_on(conn, tenant_id: int | None) -> None:
    """Let this transaction of `conn` see `tenant_id`'s rows (PostgreSQL; a no-op elsewhere)."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SELECT set_config('app.tenant_id', :tid, true)"),
                 {"tid": "" if tenant_id is None else str(tenant_id)})
