"""Creating users and checking passwords (argon2id)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import select

from app.accounts import second_factor, sessions
from app.accounts.models import ROLES, Membership, User
from app.extensions import db
from app.tenancy.resolve import tenant_by_slug
from app.tenancy.scope import all_tenants, tenant_scope
from app.validators import is_email

hasher = PasswordHasher()  # argon2-cffi's parameters (RFC 9106's second recommendation)
MIN_PASSWORD = 10
_TEST_HASHERS: dict[tuple, tuple[PasswordHasher, str]] = {}


class AccountError(ValueError):
    pass


def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher and its hash for unknown users. Tests (TESTING only) may ask for cheaper
    argon2id parameters with PASSWORD_HASH_PARAMETERS: the suite hashes hundreds of passwords
    and no test measures the cost; a hash always carries its parameters, so either verifies."""
    params = current_app.config.get("PASSWORD_HASH_PARAMETERS") if has_app_context() else None
    if not params or not current_app.config.get("TESTING"):
        return hasher, _DUMMY
    key = tuple(sorted(params.items()))
    if key not in _TEST_HASHERS:
        cheap = PasswordHasher(**params)
        _TEST_HASHERS[key] = cheap, cheap.hash("not-a-real-password")
    return _TEST_HASHERS[key]


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(user: User | None, password: str) -> bool:
    chosen, dummy = _hasher()
    if user is None:
        # Same work for an unknown user, so timing does not tell who exists.
        try:
            chosen.verify(dummy, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return chosen.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY = hasher.hash("not-a-real-password")


def create_user(email: str, password: str, tenant_slug: str, role: str) -> User:
    email = email.strip().lower()
    if not is_email(email):
        raise AccountError(f"'{email}' is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    with all_tenants():
        tenant = tenant_by_slug(tenant_slug)
        if tenant is None:
            raise AccountError(f"no tenant '{tenant_slug}'")
        if role == "district-it" and tenant.kind != "district":
            raise AccountError("district-it belongs to a district; use the district's slug")
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hash_password(password))
            db.session.add(user)
            db.session.flush()
        else:
            user.password_hash = hash_password(password)
    with tenant_scope(tenant.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        if membership is None:
            db.session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=role))
        else:
            membership.role = role
        db.session.flush()
    return user


def change_password(user: User, current: str, new: str, repeat: str) -> None:
    """Raises AccountError with a message for the form."""
    if not verify_password(user, current):
        raise AccountError("Das bisherige Passwort stimmt nicht.")
    if new != repeat:
        raise AccountError("Die beiden neuen Passwörter stimmen nicht überein.")
    if len(new) < MIN_PASSWORD:
        raise AccountError(f"Das neue Passwort braucht mindestens {MIN_PASSWORD} Zeichen.")
    user.password_hash = hash_password(new)
    db.session.flush()


class NotAllowed(AccountError):
    """The acting user may not do this at all (a 403, not a message)."""


def remove_membership(membership: Membership, *, by_user_id: int, may_remove_admins: bool) -> dict:
    """Take a user's role on this tenant away. Nobody removes themselves; district IT's role
    is not removed here, an admin's only by someone who may. Returns the role before."""
    if membership.user_id == by_user_id:
        raise AccountError("Sie können sich nicht selbst entfernen.")
    if membership.role == "district-it" or (membership.role == "admin" and not may_remove_admins):
        raise NotAllowed(membership.role)
    before = {"role": membership.role}
    db.session.delete(membership)
    db.session.flush()
    return before


def reset_second_factor(membership: Membership, *, by_user_id: int, by_district_it: bool) -> User:
    """A lost phone: another admin switches the user's second factor off; the user enrols
    again at the next login where it is required, and every session of the user ends.
    Nobody resets their own (it is changed on one's own page); district IT's factor only
    district IT resets. Returns the user."""
    if membership.user_id == by_user_id or (membership.role == "district-it" and not by_district_it):
        raise NotAllowed(membership.role)
    with all_tenants():
        user = db.session.get(User, membership.user_id)
        second_factor.reset(user)
    sessions.end_all(membership.user_id)
    return user


def memberships_here() -> list[Membership]:
    """The current tenant's back-office users (their memberships), by role."""
    return list(db.session.scalars(select(Membership).order_by(Membership.role, Membership.id)))


def second_factor_enrolled(memberships: list[Membership]) -> dict[int, bool]:
    """Per membership id: whether its user has a second factor (users belong to no tenant)."""
    with all_tenants():
        return {m.id: second_factor.enrolled(db.session.get(User, m.user_id)) for m in memberships}
