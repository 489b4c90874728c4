"""Invitations: a set-password link for a new back-office user. Only the token's hash
is stored; the link expires and works once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.accounts.models import ROLES, Invitation, Membership, User
from app.accounts.service import EMAIL, MIN_PASSWORD, AccountError, hash_password
from app.extensions import db
from app.tenancy.scope import all_tenants, current_tenant_id

VALID_FOR = timedelta(days=7)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(email: str, role: str, *, now: datetime | None = None) -> tuple[User, str]:
    """Make `email` a user with `role` in the current tenant and return (user, token).

    A new user gets an unusable random password until they follow the link; an existing
    user keeps theirs and gets the role here."""
    now = now or datetime.now(timezone.utc)
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AccountError("Bitte eine gültige E-Mail-Adresse angeben.")
    if role not in ROLES:
        raise AccountError("Unbekannte Rolle.")
    with all_tenants():
        user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        from app.accounts.auth import role_in
        from app.tenancy.models import Tenant

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
    now = now or datetime.now(timezone.utc)
    if not token or len(token) > 100:
        return None
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if inv is None or inv.used_at is not None or inv.expires_at <= now:
        return None
    return inv


def accept(inv: Invitation, password: str, *, now: datetime | None = None) -> User:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Das Passwort braucht mindestens {MIN_PASSWORD} Zeichen.")
    inv.used_at = now or datetime.now(timezone.utc)
    with all_tenants():
        user = db.session.get(User, inv.user_id)
        user.password_hash = hash_password(password)
        user.active = True
    db.session.flush()
    return user
