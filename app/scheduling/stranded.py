"""Appointments a change would strand: a service switched off, hours, closures or
counters that no longer cover what is booked. The admin is shown them before saving."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app import clock
from app.booking.models import ACTIVE_STATUSES, Appointment
from app.extensions import db
from app.scheduling.calendar import zone
from app.scheduling.slots import Policy, Schedule, covers


def future_appointments(*conditions, now: datetime | None = None) -> list[Appointment]:
    """Active appointments not yet over that match `conditions` (at most 500, soonest first)."""
    now = now or clock.now()
    return list(db.session.scalars(
        select(Appointment).where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.ends_at > now, *conditions)
        .order_by(Appointment.starts_at).limit(500)
    ))


def stranded_by_service(service) -> list[Appointment]:
    """What switching `service` off would strand: its appointments still to come."""
    return future_appointments(Appointment.service_id == service.id)


def stranded_in_office(tenant, office_id: int, *, now: datetime | None = None) -> list[Appointment]:
    """Future active appointments of the office that the current (flushed, uncommitted)
    hours, closures and counters no longer cover."""
    policy = Policy.of(tenant)
    tz = zone(policy.timezone)
    schedules: dict[tuple, dict] = {}
    out = []
    for appt in future_appointments(Appointment.office_id == office_id, Appointment.overbooked.is_(False), now=now):
        day = appt.starts_at.astimezone(tz).date()
        key = (appt.service_id, day)
        if key not in schedules:
            schedule = Schedule(appt.service, policy, day, day)
            schedules[key] = schedule.open_spans(day) if schedule.counter_ids else {}
        spans = schedules[key].get(appt.counter_id)
        if not spans or not covers(spans, appt.starts_at.timestamp(), appt.ends_at.timestamp()):
            out.append(appt)
    return out
