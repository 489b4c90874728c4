"""Flask-Login glue: a session is bound to the tenant it was opened on."""
from __future__ import annotations

from flask import g, session
from flask_login import UserMixin
from sqlalchemy import select

from app.accounts import sessions
from app.accounts.models import Membership, User
from app.extensions import db, login_manager
from app.tenancy.scope import all_tenants


class BackOfficeUser(UserMixin):
    """The logged-in user as seen on this tenant: their role here."""

    def __init__(self, user: User, role: str):
        self.user = user
        self.id = user.id
        self.email = user.email
        self.role = role

    def get_id(self) -> str:
        return str(self.user.id)

    def can(self, needed: str) -> bool:
        order = {"staff": 0, "admin": 1, "district-it": 2}
        return order[self.role] >= order[needed]


def role_in(user_id: int, tenant) -> str | None:
    """The user's role on `tenant`; district-it of its district counts as district-it."""
    with all_tenants():
        rows = db.session.execute(
            select(Membership.role, Membership.tenant_id).where(
                Membership.user_id == user_id,
                Membership.tenant_id.in_([tenant.id] + ([tenant.parent_id] if tenant.parent_id else [])),
            )
        ).all()
    own = next((r for r, tid in rows if tid == tenant.id), None)
    if own:
        return own
    if any(r == "district-it" for r, tid in rows if tid == tenant.parent_id):
        return "district-it"
    return None


@login_manager.user_loader
def load_user(user_id: str):
    tenant = g.get("tenant")
    if tenant is None or session.get("tenant_id") != tenant.id:
        return None  # a cookie from another tenant's host is no login here
    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    # Held on the server: logged out, ended elsewhere, idle or too old is no login.
    server_session = sessions.find_open(session.get("sid"), user.id)
    if server_session is None:
        return None
    g.user_session = server_session
    role = role_in(user.id, tenant)
    return BackOfficeUser(user, role) if role else None


__all__ = ["BackOfficeUser", "load_user", "role_in"]
