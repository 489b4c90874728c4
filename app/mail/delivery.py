"""Delivering outbox rows: at most once to the SMTP server, never lost, retried with
backoff until it goes out (the lease protocol in app.jobs.lease)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.jobs import lease
from app.mail.models import OutboxMail
from app.mail.outbox import render_row
from app.mail.transport import TransportError, build_message, send
from app.ops.counters import job_failed
from app.tenancy.scope import all_tenants

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 200  # about a day and a half at the 30-second cap


def backoff(attempts: int) -> timedelta:
    # Capped low on purpose: held mail must go out within a minute of the server's return.
    return timedelta(seconds=min(30, 2 ** attempts))


def _rendered_message(row: OutboxMail):
    """The message of a claimed row; an unrendered row is rendered first (once: the text is
    kept with the claim, so a retry sends the same)."""
    return build_message(row) if render_row(row) else lease.SKIP


def deliver(mail_id: int, now: datetime | None = None) -> bool:
    """Send one outbox row if it is still to be sent. True when it went out now.

    The claim ("sending", with a lease) is committed before the SMTP conversation, so two
    workers never both send it and no transaction waits on the mail server; the row keeps
    its Message-ID, so a receiver sees a resend after a crash as the same message.
    `sent_at` is when the SMTP server took it (with `created_at`, the booking → mail latency)."""
    taken = lease.take(OutboxMail, mail_id, now or clock.now(), prepare=_rendered_message)
    if taken is None:
        return False
    row, msg = taken
    try:
        send(msg, row)
    except TransportError as exc:
        failed = row.attempts >= MAX_ATTEMPTS
        lease.record(OutboxMail, mail_id, status="failed" if failed else "pending", last_error=str(exc)[:300],
                     next_attempt_at=clock.now() + backoff(row.attempts))
        job_failed("mail")
        log.warning("mail delivery failed; will retry", extra={"mail_id": mail_id, "event": row.event})
        raise
    lease.record(OutboxMail, mail_id, status="sent", sent_at=clock.now(), last_error="")
    log.info("mail sent", extra={"mail_id": mail_id, "event": row.event})
    return True


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: send rows whose time has come (their job lost or failed, a lease run out)."""
    now = now or clock.now()
    with all_tenants():
        ids = list(db.session.scalars(
            select(OutboxMail.id).where(lease.due(OutboxMail, now)).order_by(OutboxMail.id).limit(limit)
        ))
    db.session.rollback()
    sent = 0
    for mail_id in ids:
        try:
            sent += deliver(mail_id, now)
        except TransportError:
            db.session.rollback()
            break  # the server is down; no point hammering it with the rest now
    return sent
