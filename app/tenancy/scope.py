"""The one scoped path to tenant-owned data.

Every ORM SELECT, bulk UPDATE and bulk DELETE that touches a `TenantOwned` model gets
`tenant_id = <current tenant>` added automatically; without an active tenant it raises
`NoTenantError`. Every flush checks that new and changed tenant-owned rows belong to the active tenant. Code that
really must see all tenants (district IT overviews, the mail sweeper, tenant sync)
says so visibly with `all_tenants()` or enters each tenant with `tenant_scope()`.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator

from sqlalchemy import ForeignKey, ForeignKeyConstraint, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from app.extensions import db

_current_tenant: ContextVar[int | None] = ContextVar("current_tenant", default=None)
_all_tenants: ContextVar[bool] = ContextVar("all_tenants", default=False)


class NoTenantError(RuntimeError):
    """A tenant-owned table was queried or written with no tenant in scope."""


class CrossTenantWriteError(RuntimeError):
    """A tenant-owned row of another tenant was about to be written."""


class TenantOwned:
    """Mixin for every table whose rows belong to one tenant. A column declared with
    `tenant_ref()` gets its foreign key here, once the class's table exists."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)  # declarative maps the class and builds its table here
        table = cls.__dict__.get("__table__")
        for column in table.columns if table is not None else ():
            if "tenant_ref" in column.info:
                target, ondelete = column.info["tenant_ref"]
                table.append_constraint(ForeignKeyConstraint(
                    ["tenant_id", column.name], [f"{target}.tenant_id", f"{target}.id"], ondelete=ondelete))


class TenantRow(TenantOwned):
    """A tenant's row with an id of its own (every tenant table but the statistics' day rows)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)  # first, as in the migrations


def tenant_ref(table: str, ondelete: str, **kwargs):
    """A column naming a row of `table` of the same tenant: its foreign key is
    (tenant_id, column) → `table` (tenant_id, id), so the database itself refuses a row that
    points at another tenant's. `kwargs` as for `mapped_column`."""
    return mapped_column(info={"tenant_ref": (table, ondelete)}, **kwargs)


def tenant_key() -> UniqueConstraint:
    """(tenant_id, id): the key the `tenant_ref()` columns of other tables point at."""
    return UniqueConstraint("tenant_id", "id")


def scoped_by_id(model, object_id, *conditions):
    """A tenant-owned row by id through the tenant scope (never the identity map, which
    would skip the scope's filter): None for another tenant's id, or when `conditions` fail."""
    return db.session.scalar(select(model).where(model.id == object_id, *conditions))


def current_tenant_id() -> int:
    tid = _current_tenant.get()
    if tid is None:
        raise NoTenantError("no tenant is active")
    return tid


def active_tenant_id() -> int | None:
    return _current_tenant.get()


def all_tenants_active() -> bool:
    """Inside `all_tenants()` (and not in a `tenant_scope()` within it)."""
    return _all_tenants.get()


@contextlib.contextmanager
def tenant_scope(tenant_id: int) -> Iterator[int]:
    """Act as one tenant; also inside an `all_tenants()` block, which it suspends."""
    token = _current_tenant.set(tenant_id)
    suspended = _all_tenants.set(False)
    try:
        yield tenant_id
    finally:
        _all_tenants.reset(suspended)
        _current_tenant.reset(token)


def enter_tenant(tenant_id: int | None):
    """Set the tenant for the rest of this context (a request); returns a reset token."""
    return _current_tenant.set(tenant_id)


def leave_tenant(token) -> None:
    _current_tenant.reset(token)


@contextlib.contextmanager
def all_tenants() -> Iterator[None]:
    """Cross-tenant access, for the few places that need it. Visible on purpose."""
    token = _all_tenants.set(True)
    try:
        yield
    finally:
        _all_tenants.reset(token)


_OWNED: set = set()


def _owned_tables() -> set:
    """The tables of every tenant-owned model (filled once all models are mapped)."""
    if not _OWNED:
        _OWNED.update(m.local_table for m in db.Model.registry.mappers if issubclass(m.class_, TenantOwned))
    return _OWNED


@event.listens_for(Session, "do_orm_execute")
def _scope_statements(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or _all_tenants.get() \
            or state.execution_options.get("all_tenants"):
        return
    # Any tenant-owned table anywhere in the statement (entities, joins, subqueries,
    # EXISTS, a bare select_from, the target of a bulk UPDATE or DELETE) makes it a
    # tenant statement.
    # The entities answer the common case at once; only statements without a
    # tenant-owned entity pay for walking the whole statement (~30 µs).
    owned = _owned_tables()
    if not any(m.local_table in owned for m in state.all_mappers) and not any(
            t in owned for t in find_tables(state.statement, include_aliases=True, include_crud=True)):
        return
    tid = _current_tenant.get()
    if tid is None:
        raise NoTenantError("tenant-owned data queried with no tenant active")
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, flush_context, instances) -> None:
    if _all_tenants.get():
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        tid = _current_tenant.get()
        if tid is None:
            raise NoTenantError(f"{type(obj).__name__} written with no tenant active")
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = tid
        elif obj.tenant_id != tid:
            raise CrossTenantWriteError(f"{type(obj).__name__} of tenant {obj.tenant_id} written in tenant {tid}")
