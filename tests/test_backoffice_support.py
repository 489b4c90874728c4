"""Helpers for the back-office and admin tests (no tests of its own)."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db

PASSWORD = "richtig-geheim-42"


def make_user(app, email: str, tenant: str, role: str, password: str = PASSWORD) -> int:
    from app.accounts.service import create_user
    from app.transaction import commit

    with app.app_context():
        user = create_user(email, password, tenant, role)
        commit()
        return user.id


def login(client, email: str, password: str = PASSWORD, *, addr: str | None = None, **fields):
    """POST the login form; `fields` are more form fields, `addr` the client address."""
    extra = {"environ_overrides": {"REMOTE_ADDR": addr}} if addr else {}
    return client.post("/admin/login", data={"email": email, "password": password, **fields}, **extra)


def logged_in(app, client, role: str = "staff", tenant: str | None = None, email: str | None = None):
    """Create a user with `role` on the client's tenant (or `tenant`) and log in."""
    tenant = tenant or client.host.split(".")[0]
    email = email or f"{role.replace('-', '')}@{tenant}.example"
    make_user(app, email, tenant, role)
    resp = login(client, email)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def tenant_id(app, slug: str) -> int:
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))


def in_tenant(app, slug: str):
    """Context manager: app context plus the tenant's scope."""
    import contextlib

    from app.tenancy.scope import tenant_scope

    @contextlib.contextmanager
    def ctx():
        tid = tenant_id(app, slug)
        with app.app_context(), tenant_scope(tid):
            yield tid

    return ctx()


def service_id(app, slug: str, tenant: str) -> int:
    from app.catalog.models import Service

    with in_tenant(app, tenant):
        return db.session.scalar(select(Service.id).where(Service.slug == slug))


def find_link(text: str, pattern: str) -> str:
    m = re.search(pattern, text)
    assert m, f"no {pattern!r} in {text[:500]}"
    return m.group(0)


