"""Second factor for the back office: TOTP (RFC 6238, any authenticator app) with
single-use recovery codes.

Required for district IT always and for admins when the tenant's setting
`second_factor` is `admin`; anyone may enrol voluntarily. A code is accepted once
(the last used time step is kept), recovery codes are stored as hashes and work once.
"""
from __future__ import annotations

import hashlib
import secrets

import pyotp
import segno
from sqlalchemy import delete, select

from app import clock
from app.accounts.models import RecoveryCode, User
from app.extensions import db

RECOVERY_CODES = 10
ISSUER = "Amtstermin"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mix up


class SecondFactorError(ValueError):
    pass


def required_for(role: str, settings: dict) -> bool:
    """Whether `role` must use a second factor on a tenant with these effective settings."""
    if role == "district-it":
        return True
    return role == "admin" and settings.get("second_factor") == "admin"


def enrolled(user: User) -> bool:
    return bool(user.totp_secret and user.totp_enabled_at)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, label: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"{ISSUER} {label}".strip())


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no image request, no third party)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title="QR-Code für die Authenticator-App")


def _step_matching(secret: str, code: str) -> int | None:
    """The time step whose code is `code`, allowing one step of clock drift either way."""
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.now())
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _new_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Switch the second factor on once the app shows a right code; returns the recovery
    codes to show once (only their hashes are kept)."""
    code = _clean(code)
    step = _step_matching(secret, code) if code.isdigit() and len(code) == 6 else None
    if step is None:
        raise SecondFactorError("Der Code stimmt nicht. Bitte geben Sie den aktuellen Code aus der App ein.")
    user.totp_secret = secret
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    return replace_recovery_codes(user)


def replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = _new_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return codes


def check(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when `code` is a valid, unused code of the user; None otherwise."""
    if not enrolled(user):
        return None
    cleaned = _clean(code)
    if cleaned.isdigit() and len(cleaned) == 6:
        step = _step_matching(user.totp_secret, cleaned)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return None  # wrong, or already used: a code overheard is worth nothing
        user.totp_last_step = step
        db.session.flush()
        return "totp"
    if len(cleaned) == 16:
        row = db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                           RecoveryCode.code_hash == _hash(cleaned),
                                                           RecoveryCode.used_at.is_(None)))
        if row is not None:
            row.used_at = clock.now()
            db.session.flush()
            return "recovery"
    return None


def recovery_codes_left(user: User) -> int:
    return len(list(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                                     RecoveryCode.used_at.is_(None)))))


def reset(user: User) -> None:
    """Switch the second factor off (a lost phone): the user enrols again at the next login
    where it is required."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
