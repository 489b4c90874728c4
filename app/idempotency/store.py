"""Remembering and finding answers by Idempotency-Key (CONTRACT §5).

A repeat with the same key, method, path and body within 24 hours gets the first answer
again and changes nothing; the same key with another request is refused. Only final
answers are kept: 2xx (with the change, in its transaction) and 4xx; a 5xx is not, so a
client may retry it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text

from app.extensions import db
from app.idempotency.models import IdempotentAnswer
from app.tenancy.scope import current_tenant_id

WINDOW = timedelta(hours=24)
VISIBLE_ASCII = frozenset(chr(c) for c in range(0x21, 0x7F))


class KeyReused(Exception):
    """The key was first used for another request (method, path or body)."""


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(ch in VISIBLE_ASCII for ch in key)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request as far as a repeat must match it; a JSON body by its content, so
    key order and whitespace do not make a retry "another body"."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\0", path.encode(), b"\0", canonical):
        digest.update(part)
    return digest.hexdigest()


def serialize(key: str, tenant_id: int) -> None:
    """PostgreSQL: one request per tenant and key at a time (until this transaction
    ends), so a retry racing the first waits for its answer instead of doing it twice."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                           {"k": f"idempotency:{tenant_id}:{key}"})


def find(key: str, fp: str, now: datetime) -> IdempotentAnswer | None:
    """The first answer for `key`, or None when the key is new (or older than 24 hours).
    Raises KeyReused when the key was first used for another request."""
    row = db.session.scalar(select(IdempotentAnswer).where(IdempotentAnswer.key == key))
    if row is None:
        return None
    if row.created_at <= now - WINDOW:
        db.session.delete(row)
        db.session.flush()
        return None
    if row.fingerprint != fp:
        raise KeyReused(key)
    return row


def remember(key: str, fp: str, method: str, path: str, status: int, body: str, mimetype: str,
             headers: dict[str, str], now: datetime) -> IdempotentAnswer:
    """Add the answer to the current transaction: it commits with the change, or not at all."""
    row = IdempotentAnswer(tenant_id=current_tenant_id(), key=key, fingerprint=fp, method=method.upper(),
                           path=path[:500], status=status, body=body, mimetype=mimetype,
                           headers=json.dumps(headers), created_at=now)
    db.session.add(row)
    return row


def forget_expired(now: datetime) -> int:
    """Retention: answers older than the 24-hour window (for every tenant)."""
    result = db.session.execute(delete(IdempotentAnswer).where(IdempotentAnswer.created_at <= now - WINDOW)
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0
