"""Helpers for the back-office and admin tests (no tests of its own)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from app.extensions import db

PASSWORD = "richtig-geheim-42"
# The authenticator secret of every test user whose role needs a second factor.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_user(app, email: str, tenant: str, role: str, password: str = PASSWORD, *,
              second_factor: bool | None = None) -> int:
    """A back-office user. District IT must use a second factor, so by default it comes
    enrolled with TOTP_SECRET (and `login()` gives the code); `second_factor` says otherwise."""
    from app.accounts.models import User
    from app.accounts.service import create_user
    from app.tenancy.scope import all_tenants
    from app.transaction import commit

    enrol = role == "district-it" if second_factor is None else second_factor
    with app.app_context():
        user = create_user(email, password, tenant, role)
        if enrol:
            with all_tenants():
                user = db.session.get(User, user.id)
                user.totp_secret = TOTP_SECRET
                user.totp_enabled_at = datetime.now(timezone.utc)
        commit()
        return user.id


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows at the app's time (a test may have frozen it)."""
    import pyotp

    from app import clock

    return pyotp.TOTP(secret).at(clock.now())


def forget_used_code(app, email: str) -> None:
    """Tests log one user in several times a minute; a real code is good once only."""
    from sqlalchemy import update

    from app.accounts.models import User
    from app.transaction import commit

    with app.app_context():
        db.session.execute(update(User).where(User.email == email.strip().lower()).values(totp_last_step=None))
        commit()


def login(client, email: str, password: str = PASSWORD, *, addr: str | None = None, code: bool = True, **fields):
    """POST the login form; `fields` are more form fields, `addr` the client address.
    A user with a second factor is asked for the code next: given here unless `code=False`."""
    extra = {"environ_overrides": {"REMOTE_ADDR": addr}} if addr else {}
    resp = client.post("/admin/login", data={"email": email, "password": password, **fields}, **extra)
    if code and resp.status_code == 302 and resp.headers["Location"].endswith("/admin/login/code"):
        forget_used_code(client.app, email)
        token = {"csrf_token": fields["csrf_token"]} if "csrf_token" in fields else {}
        resp = client.post("/admin/login/code", data={"code": totp_code(), **token}, **extra)
    return resp


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


