"""Scheduled work: reminders, reconfirmation, the mail sweeper, confirm-by-mail holds, data retention.

Run by `flask jobs run-due`, periodically inside `flask jobs worker`, and by a thread
in the web process when there is no Redis (the embedded default).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, select

from app import clock
from app.booking.holds import expire_holds
from app.booking.models import Appointment, EmergencyRequest, WaitlistEntry
from app.booking import draw, reconfirm
from app.booking.notifications import queue_mail
from app.booking.waitlist import pass_on_lapsed_offers
from app.extensions import db
from app.scheduling.calendar import zone
from app.legal.feedback import anonymize_answered
from app.idempotency.store import forget_expired
from app.mail.delivery import deliver_due
from app.mail.models import OutboxMail
from app.ops.counters import job_failed
from app.queue.retention import anonymize_entries
from app.statistics.recording import record_day
from app.statistics.tracking import fold_deltas
from app.tenancy.models import Tenant
from app.tenancy.resolve import TenantInfo
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import claim, commit
from app.webhooks.delivery import deliver_due as deliver_webhooks_due

log = logging.getLogger(__name__)
WAITLIST_MAX_DAYS = 180


def run_due(now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    result = {"reminders": 0, "anonymized": 0, "holds_expired": 0, "reconfirmations": 0, "released": 0}
    with all_tenants():
        tenants = [TenantInfo.of(t) for t in db.session.scalars(select(Tenant))]
    db.session.rollback()
    result["offers_expired"] = 0
    result["draws"] = 0
    for tenant in tenants:
        with tenant_scope(tenant.id):
            if tenant.status != "disabled":
                result["holds_expired"] += expire_holds(now)
                result["reminders"] += send_reminders(tenant, now)
                result["reconfirmations"] += send_reconfirmations(tenant, now)
                result["released"] += release_unconfirmed(tenant, now)
                result["offers_expired"] += expire_offers(now)
                result["draws"] += hold_due_draws(tenant, now)
            # A switched-off town's personal data is deleted on time all the same.
            result["anonymized"] += apply_retention(tenant, now)
            if tenant.status != "disabled":
                record_statistics_day(tenant, now)
    with all_tenants():
        result["idempotency_forgotten"] = forget_expired(now)
    commit()
    result["mails"] = deliver_due(now)
    result["webhooks"] = deliver_webhooks_due(now)
    result["statistics"] = fold_deltas()
    return result


def record_statistics_day(tenant: TenantInfo, now: datetime) -> None:
    """The statistics' daily recording (open minutes, days until the next free slot)."""
    try:
        record_day(tenant, now)
        commit()
    except Exception:  # the figures wait for the next sweep; the other due work goes on
        log.exception("statistics recording failed", extra={"tenant": tenant.slug})
        db.session.rollback()


def send_reminders(tenant: TenantInfo, now: datetime) -> int:
    """Each reminder exactly once, even with several workers: lock, re-check, flag, queue.

    The reminder goes out `reminder_hours` before the moving deadline (`cancel_deadline_hours`
    before the start), so the citizen can still move the appointment online, and cancel it
    until the start. A booking made after that point gets none: its confirmation has just
    said everything; neither does one already asked "Kommen Sie?" (reconfirmation)."""
    hours = int(tenant.settings["reminder_hours"])
    if hours <= 0:
        return 0
    lead = timedelta(hours=hours + int(tenant.settings["cancel_deadline_hours"]))
    q = select(Appointment.id).where(
        Appointment.status == "booked", Appointment.reminder_sent_at.is_(None), Appointment.email != "",
        Appointment.hold_expires_at.is_(None), Appointment.starts_at > now, Appointment.starts_at <= now + lead,
    )
    ids = list(db.session.scalars(q))
    db.session.rollback()
    sent = 0
    for appt_id in ids:
        appt = claim(select(Appointment).where(Appointment.id == appt_id, Appointment.reminder_sent_at.is_(None),
                                               Appointment.status == "booked"))
        if appt is None:
            db.session.rollback()
            continue
        appt.reminder_sent_at = now
        # Asked "Kommen Sie?" already: that mail said everything a reminder says.
        if appt.created_at < appt.starts_at - lead and appt.reconfirm_sent_at is None:
            queue_mail("reminder", appt)
            sent += 1
        commit()
    return sent


def send_reconfirmations(tenant: TenantInfo, now: datetime) -> int:
    """Each "Kommen Sie?" mail exactly once, even with several workers (the mail is in the
    outbox in the same transaction as the flag)."""
    return each_once(reconfirm.candidates(tenant, now),
                     lambda appt_id: select(Appointment).where(Appointment.id == appt_id,
                                                               Appointment.reconfirm_sent_at.is_(None),
                                                               Appointment.status == "booked"),
                     lambda appt: reconfirm.ask(tenant, appt, now))


def release_unconfirmed(tenant: TenantInfo, now: datetime) -> int:
    """Release each unanswered appointment once: cancelled (the waiting list is offered the
    slot, the citizen is told)."""
    return each_once(reconfirm.overdue(tenant, now),
                     lambda appt_id: select(Appointment).where(Appointment.id == appt_id,
                                                               Appointment.status == "booked",
                                                               Appointment.reconfirmed_at.is_(None)),
                     lambda appt: reconfirm.release(tenant, appt, now))


def hold_due_draws(tenant: TenantInfo, now: datetime) -> int:
    """Hold each fair draw whose window has closed, once (app/booking/draw.py), one commit each."""
    ids = draw.due_draws(now)
    db.session.rollback()
    held = 0
    for draw_id in ids:
        try:
            if draw.hold(tenant, draw_id, now) is not None:
                commit()
                held += 1
            else:
                db.session.rollback()
        except Exception:  # the next sweep tries again; the other due work goes on
            log.exception("fair draw failed", extra={"tenant": tenant.slug})
            db.session.rollback()
    return held


def each_once(ids: list[int], statement, action) -> int:
    """For each id: claim its row (`statement(id)`, skipped when another worker holds it),
    let `action(row)` re-check and act, and commit that one row; returns how many acted."""
    db.session.rollback()
    done = 0
    for row_id in ids:
        row = claim(statement(row_id))
        if row is not None and action(row):
            done += 1
            commit()
        else:
            db.session.rollback()
    return done


def apply_retention(tenant: TenantInfo, now: datetime) -> int:
    """Delete personal data once an appointment is `retention_days` in the past."""
    cutoff = now - timedelta(days=int(tenant.settings["retention_days"]))
    appts = list(db.session.scalars(
        select(Appointment).where(Appointment.ends_at < cutoff, Appointment.anonymized_at.is_(None)).limit(1000)
    ))
    for appt in appts:
        appt.name = ""
        appt.email = ""
        appt.phone = ""
        appt.note = ""
        appt.anonymized_at = now
    if appts:
        db.session.execute(delete(OutboxMail).where(OutboxMail.appointment_id.in_([a.id for a in appts])))
    # Mails that went out (also those of no appointment: replies, offers, invitations).
    db.session.execute(delete(OutboxMail).where(OutboxMail.status.in_(("sent", "failed", "skipped")),
                                                OutboxMail.created_at < cutoff))
    # Waiting-list entries that are done, and any left waiting for half a year.
    db.session.execute(delete(WaitlistEntry).where(
        WaitlistEntry.created_at < cutoff,
        (WaitlistEntry.status.in_(("expired", "withdrawn", "booked")))
        | (WaitlistEntry.created_at < now - timedelta(days=WAITLIST_MAX_DAYS))))
    requests = list(db.session.scalars(select(EmergencyRequest).where(
        EmergencyRequest.status != "open", EmergencyRequest.created_at < cutoff,
        EmergencyRequest.anonymized_at.is_(None))))
    for req in requests:
        req.name, req.email, req.phone, req.reason, req.answer = "", "", "", "", ""
        req.anonymized_at = now
    # Fair-draw entries of days past; the draw keeps its seed and order, without personal data.
    draw.forget_entries(cutoff.astimezone(zone(tenant.timezone)).date())
    # Queue entries keep their times for the statistics; a walk-in's name goes.
    anonymize_entries(cutoff, now)
    anonymize_answered(cutoff)  # accessibility feedback
    commit()
    return len(appts) + len(requests)


def expire_offers(now: datetime) -> int:
    """Waiting-list offers nobody took in time: served; their slot goes to the next in line."""
    lapsed = pass_on_lapsed_offers(now)
    commit()
    return lapsed


def start_background_sweeper(app: Flask, interval: float = 10.0) -> threading.Thread:
    """For the embedded default (no Redis): run due work every few seconds in-process."""

    def loop():
        while True:
            time.sleep(interval)
            with app.app_context():
                try:
                    run_due()
                except Exception:
                    job_failed("run_due")
                    log.exception("scheduled work failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="amtstermin-sweeper", daemon=True)
    thread.start()
    return thread


_sweeper_started = False
_sweeper_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Without Redis there is no worker: the first request of a web process starts a
    sweeper thread there (CLI commands never serve a request, so never start one)."""

    @app.before_request
    def _ensure_sweeper():
        global _sweeper_started
        if _sweeper_started or app.config.get("REDIS_URL") or not app.config.get("SWEEPER_THREAD"):
            return
        with _sweeper_lock:
            if not _sweeper_started:
                _sweeper_started = True
                start_background_sweeper(app)
