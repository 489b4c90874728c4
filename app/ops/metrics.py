"""Prometheus metrics (CONTRACT §2, METRICS_TOKEN).

Counters and histograms are kept per process; with `PROMETHEUS_MULTIPROC_DIR` set (the
gunicorn config in deploy/ sets it) every process writes them to a file there and a
scrape of any one process sums all of them. Figures that live in the database (mail
backlog, age of the oldest unsent mail, queue lengths) are read at scrape time, by the
process that answers, so they are never counted twice.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from datetime import timedelta

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from app import clock
from app.booking import events as appointment_events
from app.extensions import db
from app.jobs.queue import QUEUES, queue, redis_connection
from app.mail.models import OutboxMail
from app.offices.models import Office
from app.ops.counters import (APPOINTMENT_EVENTS, BOOKINGS, CANCELLATIONS, LATENCY, LOCK_TIMEOUTS, REQUESTS,
                               UNAVAILABLE)
from app.queue.models import QueueEntry
from app.scheduling.calendar import zone
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.webhooks.models import WebhookDelivery

log = logging.getLogger(__name__)

# psycopg's SQLSTATEs: lock_not_available (lock_timeout) and query_canceled (statement_timeout).
_LOCK_STATES = {"55P03", "57014"}


def _count_events(events) -> None:
    for ev in events:
        APPOINTMENT_EVENTS.labels(tenant=ev.tenant_slug, event=ev.event).inc()
        if ev.event == "booked":
            BOOKINGS.labels(tenant=ev.tenant_slug, source=ev.source).inc()
        elif ev.event == "cancelled":
            CANCELLATIONS.labels(tenant=ev.tenant_slug, source=ev.source).inc()


appointment_events.subscribe(after_commit=_count_events)


@event.listens_for(Engine, "handle_error")
def _lock_timeout(context) -> None:
    state = getattr(context.original_exception, "sqlstate", None)
    if state in _LOCK_STATES:
        LOCK_TIMEOUTS.inc()


class DatabaseFigures:
    """Collector read at scrape time: what the database says now."""

    def collect(self):
        backlog = GaugeMetricFamily("amtstermin_outbox_pending", "Mails waiting in the outbox, by event",
                                    labels=["event"])
        oldest = GaugeMetricFamily("amtstermin_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest mail not yet sent (0 when none waits)")
        failed = GaugeMetricFamily("amtstermin_outbox_failed", "Mails given up after every retry")
        try:
            with all_tenants():
                rows = db.session.execute(
                    select(OutboxMail.event, func.count(), func.min(OutboxMail.created_at))
                    .where(OutboxMail.status.in_(("pending", "sending"))).group_by(OutboxMail.event)).all()
                failed_count = db.session.scalar(
                    select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "failed")) or 0
                more = [_office_queues(), *_webhook_backlog()] + [family for collect in EXTRA_COLLECTORS for family in collect()]
        finally:
            db.session.rollback()
        first = min((r[2] for r in rows), default=None)
        for ev, count, _ in rows:
            backlog.add_metric([ev], count)
        oldest.add_metric([], max(0.0, (clock.now() - first).total_seconds()) if first else 0.0)
        failed.add_metric([], failed_count)
        yield backlog
        yield oldest
        yield failed
        yield from more
        yield from _job_queue_figures()


def _webhook_backlog() -> list[GaugeMetricFamily]:
    pending = GaugeMetricFamily("amtstermin_webhooks_pending", "Webhook deliveries not yet taken by the receiver",
                                labels=["tenant"])
    oldest = GaugeMetricFamily("amtstermin_webhooks_oldest_pending_age_seconds",
                               "Age of the oldest webhook delivery not yet taken (0 when none waits)")
    failed = GaugeMetricFamily("amtstermin_webhooks_failed", "Webhook deliveries given up after every retry")
    rows = db.session.execute(
        select(Tenant.slug, func.count(), func.min(WebhookDelivery.created_at))
        .join(Tenant, Tenant.id == WebhookDelivery.tenant_id)
        .where(WebhookDelivery.status == "pending").group_by(Tenant.slug)).all()
    for slug, count, _ in rows:
        pending.add_metric([slug], count)
    first = min((r[2] for r in rows), default=None)
    oldest.add_metric([], max(0.0, (clock.now() - first).total_seconds()) if first else 0.0)
    failed.add_metric([], db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                            .where(WebhookDelivery.status == "failed")) or 0)
    return [pending, oldest, failed]


def _office_queues() -> GaugeMetricFamily:
    """Citizens waiting (checked in or with a walk-in ticket, not yet called) per office, today."""
    waiting = GaugeMetricFamily("amtstermin_office_queue_waiting", "Citizens waiting at an office right now",
                                labels=["tenant", "office"])
    now = clock.now()
    days = {(now + timedelta(days=d)).date() for d in (-1, 0, 1)}
    rows = db.session.execute(
        select(Tenant.slug, Tenant.timezone, Office.slug, QueueEntry.day, func.count())
        .join(Tenant, Tenant.id == QueueEntry.tenant_id)
        .join(Office, (Office.tenant_id == QueueEntry.tenant_id) & (Office.id == QueueEntry.office_id))
        .where(QueueEntry.status == "waiting", QueueEntry.day.in_(days))
        .group_by(Tenant.slug, Tenant.timezone, Office.slug, QueueEntry.day)).all()
    for tenant, tz, office, day, count in rows:
        if day == now.astimezone(zone(tz)).date():
            waiting.add_metric([tenant, office], count)
    return waiting


# Further scrape-time figures register here: functions returning metric families, run in all_tenants().
EXTRA_COLLECTORS: list = []


def _job_queue_figures():
    if redis_connection() is None:
        return
    length = GaugeMetricFamily("amtstermin_job_queue_length", "Jobs waiting in an rq queue", labels=["queue"])
    failed = GaugeMetricFamily("amtstermin_job_failed", "Jobs in an rq queue's failed registry", labels=["queue"])
    try:
        for name in QUEUES:
            q = queue(name)
            length.add_metric([name], len(q))
            failed.add_metric([name], q.failed_job_registry.count)
    except Exception:  # Redis down: the scrape still answers; jobs_up says why the figures are missing
        up = GaugeMetricFamily("amtstermin_jobs_up", "Whether Redis answered this scrape")
        up.add_metric([], 0)
        yield up
        return
    up = GaugeMetricFamily("amtstermin_jobs_up", "Whether Redis answered this scrape")
    up.add_metric([], 1)
    yield up
    yield length
    yield failed


def render() -> tuple[bytes, str]:
    """The Prometheus text: every process's counters (multiprocess) plus the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    db_registry = CollectorRegistry()
    db_registry.register(DatabaseFigures())
    return body + generate_latest(db_registry), CONTENT_TYPE_LATEST


def allowed(token: str | None, networks: list[str]) -> bool:
    """A scrape is answered with the right bearer token, or from a configured network."""
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(),
                                                                      token.encode()):
        return True
    if networks and request.remote_addr:
        try:
            addr = ipaddress.ip_address(request.remote_addr)
        except ValueError:
            return False
        return any(addr in ipaddress.ip_network(net, strict=False) for net in networks)
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        route = request.url_rule.rule if request.url_rule is not None else "-"
        started = g.get("metrics_started")
        observe(route, request.method, response.status_code,
                time.perf_counter() - started if started is not None else None)
        return response


def observe(route: str, method: str, status: int, seconds: float | None) -> None:
    """Count one answered request (app/fastpath.py counts its answers through here too)."""
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    if seconds is not None:
        LATENCY.labels(route=route, method=method).observe(seconds)
    if status == 503:
        UNAVAILABLE.labels(route=route).inc()
