"""Outbox rows that talk to the outside world (mail over SMTP, later webhooks): at most
once to the other side, never lost.

No database transaction is held while the other side is talked to. A row is claimed with
a short committed lease (`status = 'sending'`, `next_attempt_at` = the lease's end), the
conversation runs with no transaction and no connection held, and its outcome is recorded
on a fresh connection, retried while the database is away. A worker that dies mid-send
leaves a lease that runs out; the sweeper then takes the row up again.

A model used here mixes in `Leased` (`status` 'pending', 'sending', 'sent' or 'failed',
`attempts`, `next_attempt_at`, `last_error`) and adds `lease_constraints()` to its table.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, Index, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.faults import with_db_retries
from app.tenancy.scope import all_tenants
from app.transaction import claim

LEASE = timedelta(minutes=2)
# What `prepare` returns for a row it settled itself (a mail no longer warranted): the row
# is committed as `prepare` left it and not sent.
SKIP = object()
# Recording the outcome is retried for this long: well inside the lease, so nobody
# re-claims a row whose send went through while its "sent" was still being written.
RECORD_FOR_SECONDS = 75.0


class Leased:
    """The delivery columns of an outbox row sent under a lease (mail, webhooks)."""

    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    last_error: Mapped[str] = mapped_column(String(300), default="")


def lease_constraints(table: str, extra_statuses: tuple = ()) -> tuple:
    """The named check on `status` and the index the sweeper reads due rows by (`extra_statuses`:
    a table's own settled states, e.g. a mail 'skipped')."""
    statuses = ", ".join(f"'{s}'" for s in ("pending", "sending", "sent", "failed", *extra_statuses))
    return (CheckConstraint(f"status IN ({statuses})", name="status"),
            Index(f"ix_{table}_pending", "status", "next_attempt_at"))


def due(model, now: datetime):
    """Rows to send: pending ones whose time has come, and leases that ran out."""
    return or_(model.status == "pending", model.status == "sending") & (model.next_attempt_at <= now)


def take(model, row_id: int, now: datetime, *, prepare=None):
    """Claim row `row_id` for one send, or None (sent, failed, or another worker's).

    `prepare(row)` runs before the claim commits and builds what the send needs, so the
    send never touches the database (it may also fill the row, or settle it and return
    SKIP). Returns `(row, prepared)` with `row` detached."""
    with all_tenants():
        row = claim(select(model).where(
            model.id == row_id,
            or_(model.status == "pending", (model.status == "sending") & (model.next_attempt_at <= now))))
        if row is None:
            db.session.rollback()
            return None
        prepared = prepare(row) if prepare else None
        if prepared is SKIP:
            db.session.commit()
            db.session.close()
            return None
        row.status = "sending"
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        db.session.flush()
        db.session.expunge(row)
        db.session.commit()
    db.session.close()  # the connection goes back to the pool: nothing is held while we send
    return row, prepared


def record(model, row_id: int, **values) -> bool:
    """Write the send's outcome on a fresh connection, retrying while the database is away.
    False when the lease was no longer ours (it ran out and another worker took over)."""

    def write() -> bool:
        with all_tenants():
            result = db.session.execute(
                update(model).where(model.id == row_id, model.status == "sending").values(**values)
                .execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount == 1

    return with_db_retries(write, for_seconds=RECORD_FOR_SECONDS)
