"""Posting webhook deliveries: each row at most once, retried with backoff until the
receiver takes it (any 2xx), by the rq job queued after the commit or by the sweeper.

The row stays locked while it is posted, so two workers never post it both; killed
mid-post, the lock goes and the row is still pending (the receiver may then see the
event twice and knows it by its `id` — the one case of a repeat, as with any webhook).
"""
from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.ops.counters import job_failed
from app.tenancy.scope import all_tenants
from app.transaction import after_commit, claim
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import HEADER, sign

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 300  # about a day at the five-minute cap; then 'failed', to be retried from the back office
USER_AGENT = "Amtstermin-Webhooks/1"


class WebhookError(Exception):
    """The receiver did not take the delivery; it is retried later."""


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** attempts))


def post(endpoint: WebhookEndpoint, row: WebhookDelivery) -> int:
    """POST the payload, signed now; the receiver's status code, or WebhookError."""
    body = row.payload.encode()
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        HEADER: sign(endpoint.secret, int(time.time()), body),
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


def deliver(delivery_id: int) -> bool:
    """Post one delivery if it is still pending. True when it went out now."""
    with all_tenants():
        row = claim(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                  WebhookDelivery.status == "pending"))
        if row is None:
            db.session.rollback()
            return False
        endpoint = db.session.get(WebhookEndpoint, row.endpoint_id)
        now = clock.now()
        try:
            if not endpoint.active:
                raise WebhookError("endpoint switched off", None)
            status = post(endpoint, row)
        except WebhookError as exc:
            row.attempts += 1
            row.last_error = str(exc.args[0])[:300]
            row.last_response = exc.args[1] if len(exc.args) > 1 else None
            row.next_attempt_at = now + backoff(row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            endpoint.last_status, endpoint.last_response, endpoint.last_attempt_at = "failing", row.last_response, now
            db.session.commit()
            job_failed("webhook")
            log.warning("webhook delivery failed; will retry", extra={"event": row.event, "status": row.last_response})
            raise
        row.status = "sent"
        row.sent_at = now
        row.attempts += 1
        row.last_response = status
        row.last_error = ""
        endpoint.last_status, endpoint.last_response, endpoint.last_attempt_at = "ok", status, now
        db.session.commit()
        log.info("webhook delivered", extra={"event": row.event, "status": status})
        return True


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: post pending deliveries whose time has come, oldest first; an
    endpoint that fails is left alone for the rest of this round."""
    now = now or clock.now()
    with all_tenants():
        due = db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.rollback()
    sent, failing = 0, set()
    for delivery_id, endpoint_id in due:
        if endpoint_id in failing:
            continue
        try:
            sent += deliver(delivery_id)
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
