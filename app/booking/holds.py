"""Confirm-by-e-mail mode (tenant setting booking_mode = 'confirm'): an online booking
holds its slot for `confirm_minutes` until the citizen follows the link in the mail;
an unconfirmed hold expires and frees the slot. Plain functions; the caller commits."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.booking.models import Appointment
from app.booking.notifications import confirm_url, queue_mail
from app.booking.waitlist import offer_freed_slot
from app.extensions import db
from app.transaction import claim, commit


class HoldExpired(Exception):
    """The hold ran out before the citizen confirmed; the slot is free again."""


def confirm_mode(tenant) -> bool:
    return tenant.settings.get("booking_mode") == "confirm"


def hold(tenant, appt: Appointment, now: datetime | None = None) -> None:
    """Hold a fresh online booking and ask the citizen to confirm it by mail."""
    now = now or clock.now()
    appt.hold_expires_at = now + timedelta(minutes=int(tenant.settings["confirm_minutes"]))
    db.session.flush()
    # The link in the mail confirms; {{ manage_url }} carries it in the confirm_request text.
    queue_mail("confirm_request", appt, manage_url=confirm_url(tenant, appt))


def lapsed(appt: Appointment, now: datetime) -> bool:
    """Whether the booking can no longer be confirmed: cancelled, or its hold ran out."""
    if appt.hold_expires_at is None:
        return appt.status == "cancelled"
    return appt.status != "booked" or appt.hold_expires_at <= now


def confirm(appt: Appointment, now: datetime | None = None) -> bool:
    """Confirm a held booking: the normal confirmation mail goes out. True when it was
    held until now, False when it was confirmed already (confirming twice is harmless)."""
    now = now or clock.now()
    if lapsed(appt, now):
        raise HoldExpired()
    if appt.hold_expires_at is None:
        return False
    appt.hold_expires_at = None
    appt.sequence += 1
    db.session.flush()
    queue_mail("confirmation", appt)
    return True


def expire_holds(now: datetime | None = None) -> int:
    """Cancel unconfirmed holds of the current tenant whose time is up (no mail: the
    citizen never had an appointment). Each in its own small transaction."""
    now = now or clock.now()
    ids = list(db.session.scalars(select(Appointment.id).where(
        Appointment.hold_expires_at.is_not(None), Appointment.hold_expires_at <= now,
        Appointment.status == "booked")))
    db.session.rollback()
    expired = 0
    for appt_id in ids:
        appt = claim(select(Appointment).where(
            Appointment.id == appt_id, Appointment.status == "booked", Appointment.hold_expires_at.is_not(None),
            Appointment.hold_expires_at <= now))
        if appt is None:
            db.session.rollback()
            continue
        appt.status = "cancelled"
        appt.cancelled_at = now
        appt.hold_expires_at = None
        offer_freed_slot(appt)  # a freed slot goes to the waiting list, as after a cancellation
        commit()
        expired += 1
    return expired
