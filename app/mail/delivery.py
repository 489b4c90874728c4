"""Delivering outbox rows: at most once to the SMTP server, never lost, retried with
backoff until it goes out (the lease protocol in app.jobs.lease).

A mail job sends more than its own row: with it, every row that waits (fresh ones, whose
own jobs then find nothing left, and due ones) in batches claimed by one statement,
rendered with what they share loaded once and sent over one SMTP connection."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from app import clock
from app.extensions import db
from app.faults import db_unavailable
from app.jobs import lease
from app.jobs.queue import dispatch
from app.mail.models import OutboxMail
from app.mail.outbox import render_row, render_rows
from app.mail.transport import TransportError, build_message, send
from app.ops.counters import job_failed

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 200  # about a day and a half at the 30-second cap
BATCH = 25  # rows claimed, rendered and sent together
# A job that still finds mail waiting after this long queues its continuation and ends, well
# inside rq's job timeout (JOB_TIMEOUT): a backlog after an outage never runs into it.
RUN_SECONDS = 60.0


def backoff(attempts: int) -> timedelta:
    # Capped low on purpose: held mail must go out within a minute of the server's return.
    return timedelta(seconds=min(30, 2 ** attempts))


def _prepared(rows: list[OutboxMail]) -> list:
    """The message of each claimed row; unrendered rows are rendered first (once: the text
    is kept with the claim, so a retry sends the same). A row that cannot be built is held
    back with backoff and left out, so it never stops the others."""
    try:
        rendered = render_rows(rows)
    except Exception as exc:
        if db_unavailable(exc):
            raise
        rendered = [_rendered_alone(row) for row in rows]  # find the one that fails
    out = []
    for row, ok in zip(rows, rendered):
        if not ok:  # settled (not warranted) or held back
            out.append(lease.SKIP)
            continue
        try:
            out.append(build_message(row))
        except Exception as exc:
            if db_unavailable(exc):
                raise
            _hold_back(row, exc)
            out.append(lease.SKIP)
    return out


def _rendered_alone(row: OutboxMail) -> bool | None:
    """`render_row` of one row; None, and the row held back, when it fails."""
    try:
        return render_row(row)
    except Exception as exc:
        if db_unavailable(exc):
            raise
        _hold_back(row, exc)
        return None


def _hold_back(row: OutboxMail, exc: Exception) -> None:
    log.exception("mail could not be rendered or built; held back", extra={"mail_id": row.id, "event": row.event})
    row.attempts += 1
    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
    row.next_attempt_at = clock.now() + backoff(row.attempts)
    row.last_error = f"not built: {type(exc).__name__}"[:300]


def _send_all(taken: list, sent: set[int]) -> int:
    """Send a claimed batch in order over the kept connection, recording each outcome as
    soon as it is known. Rows not started within the batch window, or left after the
    server refused one, go back unsent (`lease.release`). Returns how many were started."""
    window_ends = time.monotonic() + lease.BATCH_SEND_WINDOW.total_seconds()
    started = 0
    retry_at = None
    try:
        for row, msg in taken:
            if time.monotonic() > window_ends:
                break
            started += 1
            try:
                send(msg, row)
            except TransportError as exc:
                failed = row.attempts >= MAX_ATTEMPTS
                retry_at = clock.now() + backoff(row.attempts)
                lease.record(OutboxMail, row.id, status="failed" if failed else "pending",
                             last_error=str(exc)[:300], next_attempt_at=retry_at)
                job_failed("mail")
                log.warning("mail delivery failed; will retry", extra={"mail_id": row.id, "event": row.event})
                raise
            lease.record(OutboxMail, row.id, status="sent", sent_at=clock.now(), last_error="")
            sent.add(row.id)
            log.info("mail sent", extra={"mail_id": row.id, "event": row.event})
    finally:
        # The server is down: the rest waits as long as the refused one; otherwise at once.
        lease.release(OutboxMail, [row for row, _ in taken[started:]], retry_at or clock.now())
    return started


def _deliver(first: int | None, now: datetime | None, sent: set[int], *, fresh: bool = True,
             max_rows: int | None = None) -> None:
    """Batch after batch until nothing waits (or `max_rows` were claimed). A batch that
    started no send (every row settled or held back) ends the run: what is left, if
    anything, goes with the next job or the sweeper."""
    claimed_total = 0
    ends = time.monotonic() + RUN_SECONDS
    while max_rows is None or claimed_total < max_rows:
        if max_rows is None and time.monotonic() > ends:
            dispatch("app.mail.delivery.deliver", first if first is not None else max(sent, default=0))
            return
        limit = BATCH if max_rows is None else min(BATCH, max_rows - claimed_total)
        taken, claimed = lease.take_many(OutboxMail, now or clock.now(), first=first, fresh=fresh, limit=limit,
                                         prepare_many=_prepared)
        if not claimed:
            return
        claimed_total += claimed
        first = None
        started = _send_all(taken, sent)
        if started == 0 or (claimed < limit and started == len(taken)):
            return


def deliver(mail_id: int, now: datetime | None = None) -> bool:
    """Send outbox row `mail_id` if it is still to be sent, and every other row that waits
    (fresh or due), batch by batch. True when `mail_id`'s mail went out now.

    The claim ("sending", with a lease) is committed before the SMTP conversation, so two
    workers never both send a row and no transaction waits on the mail server; each row
    keeps its Message-ID, so a receiver sees a resend after a crash as the same message.
    `sent_at` is when the SMTP server took it (with `created_at`, the booking → mail latency)."""
    sent: set[int] = set()
    _deliver(mail_id, now, sent)
    return mail_id in sent


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: send rows whose time has come (their job lost or failed, a lease run out)."""
    sent: set[int] = set()
    try:
        _deliver(None, now or clock.now(), sent, fresh=False, max_rows=limit)
    except TransportError:
        db.session.rollback()  # the server is down; no point hammering it with the rest now
    return len(sent)
