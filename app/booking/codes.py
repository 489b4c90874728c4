"""Booking codes clerks can read out on the phone, and secret manage tokens: made here,
and the rows they name found here (appointments, fair-draw entries, waiting-list entries)."""
from __future__ import annotations

import hmac
import secrets

from sqlalchemy import select

from app.extensions import db

# No 0/O, 1/I/L: nothing a caller can mishear or misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def unused_code(column) -> str:
    """A fresh code that no row holds in `column` yet (e.g. `Appointment.code`)."""
    while True:
        code = new_code()
        if not db.session.scalar(select(column).where(column == code)):
            return code


def normalize_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else code.upper()


def by_code(column, code: str | None):
    """The row whose `column` (e.g. `Appointment.code`) holds the booking code a caller reads
    out (any case, with or without the hyphen); None for none."""
    code = normalize_code((code or "").strip())
    return db.session.scalar(select(column.class_).where(column == code)) if code else None


def new_manage_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def tokens_match(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode())


def by_token(column, token: str):
    """The row whose `column` (e.g. `Appointment.manage_token`) holds the secret `token` of
    its link; None for no, an overlong or an unknown token."""
    if not token or len(token) > 64:
        return None
    row = db.session.scalar(select(column.class_).where(column == token))
    if row is None or not tokens_match(getattr(row, column.key), token):
        return None
    return row
