"""Booking codes clerks can read out on the phone, and secret manage tokens."""
from __future__ import annotations

import hmac
import secrets

# No 0/O, 1/I/L: nothing a caller can mishear or misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else code.upper()


def new_manage_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def tokens_match(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode())
