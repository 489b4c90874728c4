"""Posting webhook deliveries: each row at most once, retried with backoff until the
receiver takes it (any 2xx), by the rq job queued after the commit or by the sweeper.

The lease protocol of app/jobs/lease.py, as for mail: a delivery is claimed with a short
committed lease ('sending'), posted with no transaction open, and its outcome recorded
after; two workers never post it both. A worker killed mid-post leaves a lease that runs
out, and the sweeper posts it again (the receiver may then see the event twice and knows
it by its `id` — the one case of a repeat, as with any webhook).
"""
from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app import clock
from app.extensions import db
from app.faults import with_db_retries
from app.jobs import lease
from app.ops.counters import job_failed
from app.tenancy.scope import all_tenants
from app.transaction import after_commit
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import HEADER, sign

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 300  # about a day at the five-minute cap; then 'failed', to be retried from the back office
USER_AGENT = "Amtstermin-Webhooks/1"


class WebhookError(Exception):
    """The receiver did not take the delivery; it is retried later."""


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** attempts))


def post(url: str, secret: str, row: WebhookDelivery) -> int:
    """POST the payload, signed now; the receiver's status code, or WebhookError."""
    body = row.payload.encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        HEADER: sign(secret, int(time.time()), body),
        "Amtstermin-Event": f"appointment.{row.event}", "Amtstermin-Delivery": row.event_id,
    })
    timeout = current_app.config.get("WEBHOOK_TIMEOUT", 5)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code}", exc.code) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(type(reason).__name__ if not isinstance(reason, str) else reason[:100], None) from exc


def _endpoint_of(row: WebhookDelivery) -> tuple[str, str, bool]:
    """What the POST needs of the endpoint, read before the claim commits."""
    endpoint = db.session.get(WebhookEndpoint, row.endpoint_id)
    return endpoint.url, endpoint.secret, endpoint.active


def _note_endpoint(endpoint_id: int, status: str, response: int | None, now: datetime) -> None:
    """The endpoint's last attempt, for the back office (retried while the database is away)."""

    def write() -> None:
        with all_tenants():
            db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(
                last_status=status, last_response=response, last_attempt_at=now)
                .execution_options(synchronize_session=False))
        db.session.commit()

    with_db_retries(write, for_seconds=lease.RECORD_FOR_SECONDS)


def deliver(delivery_id: int, now: datetime | None = None) -> bool:
    """Post one delivery if it is still to be posted. True when it went out now.

    The claim ("sending", with a lease) is committed before the POST, so two workers never
    both post it and no transaction waits on the receiver; the outcome is recorded after."""
    now = now or clock.now()
    taken = lease.take(WebhookDelivery, delivery_id, now, prepare=_endpoint_of)
    if taken is None:
        return False
    row, (url, secret, active) = taken
    try:
        if not active:
            raise WebhookError("endpoint switched off", None)
        status = post(url, secret, row)
    except WebhookError as exc:
        response = exc.args[1] if len(exc.args) > 1 else None
        lease.record(WebhookDelivery, delivery_id, status="failed" if row.attempts >= MAX_ATTEMPTS else "pending",
                     last_error=str(exc.args[0])[:300], last_response=response,
                     next_attempt_at=clock.now() + backoff(row.attempts))
        _note_endpoint(row.endpoint_id, "failing", response, clock.now())
        job_failed("webhook")
        log.warning("webhook delivery failed; will retry", extra={"event": row.event, "status": response})
        raise
    lease.record(WebhookDelivery, delivery_id, status="sent", sent_at=clock.now(), last_response=status,
                 last_error="")
    _note_endpoint(row.endpoint_id, "ok", status, clock.now())
    log.info("webhook delivered", extra={"event": row.event, "status": status})
    return True


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: post deliveries whose time has come (their job lost or failed, a lease
    run out), oldest first; an endpoint that fails is left alone for the rest of this round."""
    now = now or clock.now()
    with all_tenants():
        due = db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
            .where(lease.due(WebhookDelivery, now))
            .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.rollback()
    sent, failing = 0, set()
    for delivery_id, endpoint_id in due:
        if endpoint_id in failing:
            continue
        try:
            sent += deliver(delivery_id, now)
        except WebhookError:
            db.session.rollback()
            failing.add(endpoint_id)
    return sent


def retry(row: WebhookDelivery) -> None:
    """An admin's "send again" for a delivery given up on: pending, due now, posted after
    the commit. The caller commits."""
    if row.status == "failed":
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = clock.now()
        after_commit("app.webhooks.delivery.deliver", row.id)
