"""Invitations: a set-password link for a new back-office user. Only the token's hash
is stored; the link expires and works once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.accounts.auth import role_in
from app.accounts.models import ROLES, Invitation, Membership, User
from app.accounts.service import MIN_PASSWORD, AccountError, hash_password
from app.audit.models import record
from app.extensions import db
from app.mail.outbox import queue_event
from app.tenancy.models import Tenant
from app.tenancy.resolve import tenant_info
from app.tenancy.scope import all_tenants, current_tenant_id, tenant_scope
from app.urls import tenant_url
from app.validators import is_email

VALID_FOR = timedelta(days=7)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(email: str, role: str, *, now: datetime | None = None) -> tuple[User, str]:
    """Make `email` a user with `role` in the current tenant and return (user, token).

    A new user gets an unusable random password until they follow the link; an existing
    user keeps theirs and gets the role here."""
    now = now or clock.now()
    email = email.strip().lower()
    if not is_email(email):
        raise AccountError("Bitte eine gültige E-Mail-Adresse angeben.")
    if role not in ROLES:
        raise AccountError("Unbekannte Rolle.")
    with all_tenants():
        user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        with all_tenants():
            here = db.session.get(Tenant, current_tenant_id())
            if role_in(user.id, here) == "district-it":
                raise AccountError("Diese Person betreut den Kreis (district-it) und hat hier schon alle Rechte.")
    if user is None:
        user = User(email=email, password_hash=hash_password(secrets.token_urlsafe(32)))
        db.session.add(user)
        db.session.flush()
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is None:
        db.session.add(Membership(tenant_id=current_tenant_id(), user_id=user.id, role=role))
    else:
        membership.role = role
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(tenant_id=current_tenant_id(), user_id=user.id, token_hash=token_hash(token),
                              expires_at=now + VALID_FOR))
    db.session.flush()
    return user, token


def find_open(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The unused, unexpired invitation of this tenant with `token`; None otherwise."""
    now = now or clock.now()
    if not token or len(token) > 100:
        return None
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if inv is None or inv.used_at is not None or inv.expires_at <= now:
        return None
    return inv


def accept(inv: Invitation, password: str, *, now: datetime | None = None) -> User:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Das Passwort braucht mindestens {MIN_PASSWORD} Zeichen.")
    inv.used_at = now or clock.now()
    with all_tenants():
        user = db.session.get(User, inv.user_id)
        user.password_hash = hash_password(password)
        user.active = True
    db.session.flush()
    return user


def send_invitation(town: Tenant, email: str, role: str, *, sender: str, invited_by) -> str:
    """Invite `email` as `role` of `town` and queue the set-password mail (event
    'invitation', the town's text like every other mail); `sender` signs it, `invited_by`
    (a User) is recorded in the town's audit log. Returns the user's e-mail."""
    with tenant_scope(town.id):
        user, token = invite(email, role)
        ctx = {"role": role, "link": tenant_url(town.slug, "backoffice.invitation", token=token),
               "login": tenant_url(town.slug, "backoffice.login"), "sender": sender}
        queue_event(tenant_info(town.id), "invitation", user.email, ctx)
        record("user_invited", "user", user.id, actor=invited_by.email, user_id=invited_by.id,
               after={"email": user.email, "role": role})
        db.session.flush()  # inside the town's scope: the entry belongs to the town's log
    return user.email
