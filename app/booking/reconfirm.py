"""Reconfirmation, to cut no-shows (tenant settings `reconfirm_days_before`, off at 0, and
`reconfirm_deadline_hours`): `reconfirm_days_before` days before an online booking's start
the citizen gets a "Kommen Sie?" mail with "Ja, ich komme" and "Absagen". Unanswered
`reconfirm_deadline_hours` before the start, the appointment is released: cancelled by the
system, through the same path as a citizen's cancellation (so the waiting list gets the
slot), and the citizen is told by mail.

Who is asked: online bookings with an e-mail address, confirmed (not a confirm-by-mail
hold), made before the asking time (a booking made later was just made on purpose) and
with at least RECONFIRM_MIN_ANSWER_HOURS left to answer. A move counts as an answer.

The functions flush, never commit; the due work (app/jobs/due.py) claims each row, calls
them and commits one appointment at a time, so no mail goes out twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.booking.models import Appointment
from app.booking.notifications import queue_mail
from app.booking.service import cancel
from app.extensions import db
from app.tenancy.settings import RECONFIRM_MIN_ANSWER_HOURS

MIN_ANSWER = timedelta(hours=RECONFIRM_MIN_ANSWER_HOURS)


def reconfirm_on(tenant) -> bool:
    return int(tenant.settings.get("reconfirm_days_before") or 0) > 0


def answer_deadline(tenant, appt: Appointment) -> datetime:
    """Until when "Ja, ich komme" keeps the appointment; after it, it is released."""
    return appt.starts_at - timedelta(hours=int(tenant.settings["reconfirm_deadline_hours"]))


def pending(appt: Appointment) -> bool:
    """Asked, not yet answered, still booked."""
    return (appt.status == "booked" and appt.reconfirm_sent_at is not None and appt.reconfirmed_at is None
            and appt.released_at is None)


def candidates(tenant, now: datetime) -> list[int]:
    """Appointments whose "Kommen Sie?" mail is due now."""
    if not reconfirm_on(tenant):
        return []
    days = timedelta(days=int(tenant.settings["reconfirm_days_before"]))
    rows = db.session.execute(select(Appointment.id, Appointment.created_at, Appointment.starts_at).where(
        Appointment.status == "booked", Appointment.source == "online", Appointment.email != "",
        Appointment.hold_expires_at.is_(None), Appointment.reconfirm_sent_at.is_(None),
        Appointment.reconfirmed_at.is_(None), Appointment.starts_at > now, Appointment.starts_at <= now + days))
    deadline = timedelta(hours=int(tenant.settings["reconfirm_deadline_hours"]))
    return [row.id for row in rows
            if row.created_at < row.starts_at - days and now + MIN_ANSWER <= row.starts_at - deadline]


def ask(tenant, appt: Appointment, now: datetime) -> bool:
    """Send the "Kommen Sie?" mail once (the row is claimed by the caller). False when it
    is no longer due."""
    if appt.reconfirm_sent_at is not None or appt.status != "booked" or appt.hold_expires_at is not None:
        return False
    appt.reconfirm_sent_at = now
    db.session.flush()
    queue_mail("reconfirm_request", appt)
    return True


def confirm(appt: Appointment, now: datetime) -> bool:
    """"Ja, ich komme": the appointment stays. The row is locked first, so an answer and the
    release of the same appointment never both win. False when there was nothing to answer."""
    appt = db.session.scalar(select(Appointment).where(Appointment.id == appt.id).with_for_update()
                             .execution_options(populate_existing=True))
    if appt is None or not pending(appt):
        return False
    appt.reconfirmed_at = now
    db.session.flush()
    return True


def overdue(tenant, now: datetime) -> list[int]:
    """Asked, unanswered, and past the answer deadline (but not yet started)."""
    if not reconfirm_on(tenant):
        return []
    deadline = timedelta(hours=int(tenant.settings["reconfirm_deadline_hours"]))
    rows = db.session.execute(select(Appointment.id, Appointment.reconfirm_sent_at).where(
        Appointment.status == "booked", Appointment.reconfirm_sent_at.is_not(None),
        Appointment.reconfirmed_at.is_(None), Appointment.released_at.is_(None),
        Appointment.starts_at > now, Appointment.starts_at <= now + deadline))
    return [row.id for row in rows if now >= row.reconfirm_sent_at + MIN_ANSWER]


def release(tenant, appt: Appointment, now: datetime) -> bool:
    """Release an unanswered appointment (the row is claimed by the caller): cancelled as a
    citizen's cancellation is, so the freed slot goes the same way (waiting list included),
    and the citizen gets the "reconfirm_released" mail instead of the cancellation."""
    if not pending(appt) or now < answer_deadline(tenant, appt) or now >= appt.starts_at:
        return False
    appt.released_at = now
    return cancel(tenant, appt, now=now, event="reconfirm_released")
