"""PostgreSQL row-level security: the database's own wall behind the ORM's tenant scope.

Every table with a `tenant_id` column has row-level security enabled and forced, with one
policy: a row is visible and writable only when its `tenant_id` equals the transaction's
setting `app.tenant_id`, or when the transaction says `app.all_tenants = on`. The settings
follow the scope of app/tenancy/scope.py: before a statement runs, the engine hook below
compares the scope in force (`tenant_scope()`, a request's tenant, `all_tenants()`) with
what this transaction was last told and, when they differ, sets both with
`set_config(…, true)` — transaction-local, so a pooled connection never carries a tenant
into the next request. No tenant and no `all_tenants()`: no rows at all (default deny),
also for raw SQL that never passes the ORM hook.

Superusers, roles with BYPASSRLS and (without FORCE) table owners skip every policy, so the
app must not run as one: `DATABASE_ROLE` names a role without those rights (the migration
creates `amtstermin_app` where it may) that every new connection switches to with
`SET ROLE`; migrations switch back to the login (the owner) and run under `all_tenants()`.
SQLite has no row-level security; nothing here runs there.

A migration that adds a tenant-owned table calls `enable_tenant_rls(op, "table")`;
tests/test_row_level_security.py fails for any table with `tenant_id` that lacks it.
"""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from app.extensions import db
from app.tenancy.scope import active_tenant_id, all_tenants_active

APP_ROLE = "amtstermin_app"
POLICY = "tenant_isolation"
_CONDITION = ("(current_setting('app.all_tenants', true) = 'on' "
              "OR tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer)")
_MARK = "rls_scope"  # what the current transaction of a connection was last told
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


def _alter(op, table: str, statements: tuple[str, ...]) -> None:
    """Run `statements` ({t} is the checked table name) on PostgreSQL; SQLite has no policies."""
    if op.get_bind().dialect.name != "postgresql":
        return
    table = _checked(table)
    for statement in statements:
        op.execute(statement.format(t=table))


def enable_tenant_rls(op, table: str) -> None:
    """In a migration: the tenant policy on `table` (PostgreSQL only; no-op on SQLite)."""
    _alter(op, table, (
        "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {{t}}",
        f"CREATE POLICY {POLICY} ON {{t}} USING {_CONDITION} WITH CHECK {_CONDITION}",
    ))


def disable_tenant_rls(op, table: str) -> None:
    """The downgrade of `enable_tenant_rls`."""
    _alter(op, table, (
        f"DROP POLICY IF EXISTS {POLICY} ON {{t}}",
        "ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
    ))


def grant_app_role(op) -> None:
    """Create the app's role where the migrating login may, and let it use every table.
    Without CREATEROLE the role must exist already (README, Deploy) or the app logs in as
    a plain non-owner role itself."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}')
               AND (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
                EXCEPTION WHEN duplicate_object THEN NULL;  -- created meanwhile by a parallel run
                END;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                    BEGIN  -- the login must be a member to SET ROLE to it
                        EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
                    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN NULL;
                    END;
                END IF;
                EXECUTE 'GRANT USAGE ON SCHEMA public TO {APP_ROLE}';
                EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}';
                EXECUTE 'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}';
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public '
                        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}';
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE}';
            END IF;
        END $$;
    """)


def tenant_tables(conn) -> list[str]:
    """Every table of the public schema with a tenant_id column."""
    return list(conn.execute(text(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name")).scalars())


# --- the engine hooks ---------------------------------------------------------------------------
def _wanted() -> tuple[str, str]:
    tid = active_tenant_id()
    return ("" if tid is None else str(tid)), ("on" if all_tenants_active() else "off")


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    wanted = _wanted()
    info = conn.info
    if info.get(_MARK) == wanted or statement.startswith("ROLLBACK"):
        # A rollback (to a savepoint, after an error) needs no tenant, and nothing else runs
        # in a failed transaction; the settings are made again before the next statement.
        return
    # On the statement's own connection, right before it: the same transaction, one round trip
    # (a cursor of its own, so a server-side cursor of the statement is left alone).
    cursor.connection.execute(
        "SELECT set_config('app.tenant_id', %s, true), set_config('app.all_tenants', %s, true)", wanted)
    info[_MARK] = wanted


def _forget(conn, *args) -> None:
    # The transaction (or savepoint) is over: its settings are gone with it.
    conn.info.pop(_MARK, None)


def _forget_record(dbapi_conn, record, *args) -> None:
    record.info.pop(_MARK, None)


def _forget_on_reset(dbapi_conn, record, reset_state) -> None:
    # The pool's reset event, in its SQLAlchemy 2 signature (three arguments).
    record.info.pop(_MARK, None)


def init_engine(engine: Engine, role: str | None) -> None:
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    for name in ("checkout", "checkin"):
        event.listen(engine.pool, name, _forget_record)
    event.listen(engine.pool, "reset", _forget_on_reset)
    if role:
        statement = f"SET ROLE {_checked(role)}"

        @event.listens_for(engine, "connect")
        def _switch_role(dbapi_conn, record) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(statement)
            dbapi_conn.commit()


def init_app(app: Flask) -> None:
    with app.app_context():
        init_engine(db.engine, app.config.get("DATABASE_ROLE"))
