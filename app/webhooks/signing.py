"""The signature a receiver checks: `Amtstermin-Signature: t=<unix seconds>,v1=<hex>`,
v1 = HMAC-SHA256(secret, "<t>.<body>"). The timestamp lets a receiver refuse replays
(we suggest a tolerance of five minutes); the body is signed byte for byte as sent."""
from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Amtstermin-Signature"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (here for tests and for receivers written in Python)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")
