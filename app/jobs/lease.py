"""Outbox rows that talk to the outside world (mail over SMTP, later webhooks): at most
once to the other side, never lost.

No database transaction is held while the other side is talked to. A row is claimed with
a short committed lease (`status = 'sending'`, `next_attempt_at` = the lease's end), the
conversation runs with no transaction and no connection held, and its outcome is recorded
on a fresh connection, retried while the database is away. A worker that dies mid-send
leaves a lease that runs out; the sweeper then takes the row up again.

A batch (`take_many`) claims several rows in one statement under one lease and sends them
one after another, recording each outcome as soon as it is known; rows it did not get to
within BATCH_SEND_WINDOW go back (`release`). A worker that dies mid-batch leaves its sent
rows recorded and the rest to run out the lease, as for a single row.

A model used here mixes in `Leased` (`status` 'pending', 'sending', 'sent' or 'failed',
`attempts`, `next_attempt_at`, `last_error`) and adds `lease_constraints()` to its table.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, Index, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.faults import with_db_retries
from app.tenancy.scope import all_tenants
from app.transaction import claim, claim_all

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
# What `prepare` returns for a row it settled itself (a mail no longer warranted): the row
# is committed as `prepare` left it and not sent.
SKIP = object()
# Recording the outcome is retried for this long: well inside the lease, so nobody
# re-claims a row whose send went through while its "sent" was still being written.
RECORD_FOR_SECONDS = 75.0
# A batch (`take_many`) starts a send only this long after its claim; what is left then goes
# back (`release`) and is claimed anew with a fresh lease. A send that starts in the window,
# runs its connection's timeout and records for RECORD_FOR_SECONDS still ends inside the
# lease (10 + 30 + 75 s < 2 min).
BATCH_SEND_WINDOW = timedelta(seconds=10)


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


def fresh_rows(model):
    """Rows never tried yet (`attempts` 0, pending): their own job may still be on its way,
    so whoever sends first takes them; a row held back after a failure waits for its time."""
    return (model.status == "pending") & (model.attempts == 0)


def _own(model, row_id: int, now: datetime):
    return (model.id == row_id) & or_(model.status == "pending",
                                      (model.status == "sending") & (model.next_attempt_at <= now))


def take_many(model, now: datetime, *, first: int | None = None, fresh: bool = True, limit: int = 25,
              prepare_many=None) -> tuple[list, int]:
    """Claim up to `limit` rows in one statement, skipping rows another worker holds: row
    `first` if it is still to be sent, then due rows and (`fresh`) fresh ones, oldest first.

    `prepare_many(rows)` runs before the claim commits and returns, for each row, what its
    send needs (or SKIP for a row it settled itself). All rows share one lease; the batch
    sends them within BATCH_SEND_WINDOW and gives the rest back (`release`). Returns
    `([(row, prepared)], rows claimed)` with the rows detached; a crash leaves them to run
    out their lease."""
    wanted = (fresh_rows(model) | due(model, now)) if fresh else due(model, now)
    order = [model.id]
    if first is not None:
        wanted = _own(model, first, now) | wanted
        order = [(model.id != first), model.id]
    with all_tenants():
        rows = claim_all(select(model).where(wanted).order_by(*order).limit(limit))
        if not rows:
            db.session.rollback()
            return [], 0
        prepared = prepare_many(rows) if prepare_many else [None] * len(rows)
        taken = []
        for row, what in zip(rows, prepared):
            if what is SKIP:
                continue
            row.status = "sending"
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            taken.append((row, what))
        db.session.flush()
        for row in rows:
            db.session.expunge(row)
        db.session.commit()
    db.session.close()  # nothing is held while we send
    return taken, len(rows)


def release(model, rows: list, next_attempt_at: datetime) -> bool:
    """Give claimed rows of a batch back unsent (pending, their claim's attempt not counted),
    to be sent from `next_attempt_at` (fresh rows go with the next batch anyway). `rows` are
    the detached rows `take_many` returned: only a row still under that claim's lease (its
    `next_attempt_at` the lease's end) goes back, never one whose lease ran out and that
    another worker has claimed since (it would be claimed and sent a third time). A release
    that cannot be written leaves the rows to run out their lease."""
    if not rows:
        return True
    by_lease: dict[datetime, list[int]] = {}
    for row in rows:
        by_lease.setdefault(row.next_attempt_at, []).append(row.id)

    def write() -> bool:
        with all_tenants():
            for leased_until, ids in by_lease.items():
                db.session.execute(
                    update(model).where(model.id.in_(ids), model.status == "sending",
                                        model.next_attempt_at == leased_until)
                    .values(status="pending", attempts=model.attempts - 1, next_attempt_at=next_attempt_at)
                    .execution_options(synchronize_session=False))
        db.session.commit()
        return True

    try:
        return with_db_retries(write, for_seconds=RECORD_FOR_SECONDS)
    except Exception:  # the lease runs out instead; the sweeper takes the rows up then
        log.warning("could not give claimed rows back", extra={"job": model.__tablename__})
        db.session.rollback()
        return False


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
