"""Delivering outbox rows: exactly once per row, retried with backoff until it goes out."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.mail.models import OutboxMail
from app.mail.transport import TransportError, build_message, send
from app.ops.counters import job_failed
from app.tenancy.scope import all_tenants
from app.transaction import claim

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 200  # about a day and a half at the 30-second cap


def backoff(attempts: int) -> timedelta:
    # Capped low on purpose: held mail must go out within a minute of the server's return.
    return timedelta(seconds=min(30, 2 ** attempts))


def deliver(mail_id: int) -> bool:
    """Send one outbox row if it is still pending. True when it went out now.

    The row stays locked while the message is handed to the server, so two workers
    never send it both; killed mid-send, the lock goes and the row is still pending.
    """
    with all_tenants():
        row = claim(select(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "pending"))
        if row is None:
            db.session.rollback()
            return False
        now = datetime.now(timezone.utc)
        try:
            send(build_message(row), row)
        except TransportError as exc:
            row.attempts += 1
            row.last_error = str(exc)[:300]
            row.next_attempt_at = now + backoff(row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            db.session.commit()
            job_failed("mail")
            log.warning("mail delivery failed; will retry", extra={"mail_id": mail_id, "event": row.event})
            raise
        row.status = "sent"
        row.sent_at = now
        row.attempts += 1
        db.session.commit()
        log.info("mail sent", extra={"mail_id": mail_id, "event": row.event})
        return True


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: send pending rows whose time has come (their job lost or failed)."""
    now = now or datetime.now(timezone.utc)
    with all_tenants():
        ids = list(db.session.scalars(
            select(OutboxMail.id).where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.id).limit(limit)
        ))
    db.session.rollback()
    sent = 0
    for mail_id in ids:
        try:
            sent += deliver(mail_id)
        except TransportError:
            db.session.rollback()
            break  # the server is down; no point hammering it with the rest now
    return sent
