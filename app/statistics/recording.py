"""What is recorded once a day per tenant rather than per change, and the rebuild.

- Open counter minutes of each office (from the opening hours, closures and counters the
  slot engine uses), for yesterday (final) and today (as planned in the morning).
- For each online-bookable service, the days until its next free online slot: the line
  that shows "für die nächsten vier Wochen voll". This cannot be reconstructed later, so
  it is recorded on the day by the due work (`flask jobs run-due`, the worker's sweep).

`rebuild()` recomputes the daily rows of a period from the appointments, queue entries,
waiting-list entries and emergency requests the database still holds (anonymised appointments count
as before). Moves and who cancelled are known only from the changes as they happened, so a
rebuild keeps those two figures as they were counted.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.booking.models import Appointment, AppointmentService, EmergencyRequest, WaitlistEntry
from app.queue.models import QueueEntry
from app.catalog.models import Service, bookable_online
from app.extensions import db
from app.offices.models import Office
from app.scheduling.calendar import day_bounds_utc, today_in, zone
from app.scheduling.slots import Policy, Schedule, held_back, next_slot
from app.statistics import tracking
from app.statistics.models import (
    FIGURES, StatisticsDay, StatisticsDelta, StatisticsNextFree, StatisticsOfficeDay, StatisticsRecording,
)

EVENT_ONLY = ("moves", "cancelled_by_office")


def _insert(table):
    return (postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


# --- once a day ---------------------------------------------------------------------------

def record_day(tenant, now: datetime | None = None) -> bool:
    """The tenant's daily recording, once per local day (True when it ran now). The
    current tenant scope must be `tenant`; the caller commits."""
    now = now or clock.now()
    today = today_in(zone(tenant.timezone), now)
    claimed = db.session.execute(_insert(StatisticsRecording.__table__).values(
        tenant_id=tenant.id, day=today, recorded_at=now).on_conflict_do_nothing())
    if not claimed.rowcount:
        return False
    record_capacity(tenant, today - timedelta(days=1), today)
    record_next_free(tenant, today, now)
    return True


def record_next_free(tenant, day: date, now: datetime) -> int:
    policy = Policy.of(tenant)
    tz = zone(policy.timezone)
    rows = []
    for service in db.session.scalars(bookable_online()):
        slot = next_slot(service, policy, now=now, online=True)
        days = (slot.start.astimezone(tz).date() - day).days if slot else None
        rows.append({"tenant_id": tenant.id, "day": day, "service_id": service.id, "days": days,
                     "horizon_days": policy.horizon_days})
    if rows:
        stmt = _insert(StatisticsNextFree.__table__).values(rows)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "day", "service_id"],
            set_={"days": stmt.excluded.days, "horizon_days": stmt.excluded.horizon_days}))
    return len(rows)


@dataclass(frozen=True)
class _OfficeProbe:
    """The office itself as the slot engine's 'service': every active counter, no duration.
    (`serving_counters` finds no counter linked to service id None, so it takes them all.)"""

    id: None
    office_id: int
    tenant_id: int
    duration_minutes: int = 0

    def minutes_for(self, count: int) -> int:
        return 0


def office_schedule(office_id: int, tenant_id: int, policy: Policy, first: date, last: date) -> Schedule:
    """The office's opening hours, closures and counters for a window, loaded once."""
    return Schedule(_OfficeProbe(None, office_id, tenant_id), policy, first, last, with_bookings=False)


def office_capacity(schedule: Schedule, policy: Policy, day: date) -> tuple[int, int]:
    """(open counter minutes, of which held back for staff) of the schedule's office on a day."""
    spans = schedule.open_spans(day)
    open_seconds = sum(e - s for per_counter in spans.values() for s, e in per_counter)
    # Held back at each moment: the share of the counters open then, rounded half up.
    edges = sorted([(s, 1) for v in spans.values() for s, _ in v] + [(e, -1) for v in spans.values() for _, e in v])
    held_seconds, open_now, last = 0.0, 0, None
    for t, step in edges:
        if last is not None and open_now:
            held_seconds += (t - last) * held_back(open_now, policy.held_back_share)
        open_now += step
        last = t
    return round(open_seconds / 60), round(held_seconds / 60)


def record_capacity(tenant, first: date, last: date) -> int:
    policy = Policy.of(tenant)
    rows = []
    for office_id in db.session.scalars(select(Office.id)):
        schedule = office_schedule(office_id, tenant.id, policy, first, last)
        day = first
        while day <= last:
            open_minutes, held = office_capacity(schedule, policy, day)
            rows.append({"tenant_id": tenant.id, "day": day, "office_id": office_id, "open_minutes": open_minutes,
                         "held_back_minutes": held})
            day += timedelta(days=1)
    for i in range(0, len(rows), 500):
        stmt = _insert(StatisticsOfficeDay.__table__).values(rows[i:i + 500])
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "day", "office_id"],
            set_={"open_minutes": stmt.excluded.open_minutes, "held_back_minutes": stmt.excluded.held_back_minutes}))
    return len(rows)


# --- rebuilding a period ------------------------------------------------------------------------

def rebuild(tenant, first: date, last: date) -> int:
    """Recompute the tenant's daily rows for [first, last] from what the database holds.
    The current tenant scope must be `tenant`; the caller commits. Returns the rows written."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        if not session().in_transaction():
            # One snapshot: the deltas seen are exactly the changes the rows read below
            # include. (Inside a running transaction a period in the past is safe all the
            # same: no change made now counts on a day before today, bar a late no-show.)
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": tracking.FOLD_LOCK})
    else:
        session.execute(text("UPDATE tenants SET id = id WHERE 0"))
    tz = zone(tenant.timezone)
    lo, _ = day_bounds_utc(first, tz)
    _, hi = day_bounds_utc(last, tz)
    in_range = (StatisticsDay.tenant_id == tenant.id) & (StatisticsDay.day >= first) & (StatisticsDay.day <= last)
    kept: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for model in (StatisticsDay, StatisticsDelta):
        for row in session.scalars(select(model).where(model.tenant_id == tenant.id, model.day >= first,
                                                       model.day <= last)):
            key = (row.day, row.office_id, row.service_id, row.source)
            for f in EVENT_ONLY:
                kept[key][f] += getattr(row, f)
    session.execute(delete(StatisticsDelta).where(StatisticsDelta.tenant_id == tenant.id, StatisticsDelta.day >= first,
                                                  StatisticsDelta.day <= last))
    session.execute(delete(StatisticsDay).where(in_range))

    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(contribution):
        for key, figures in contribution.items():
            if first <= key[0] <= last:
                for name, value in figures.items():
                    sums[key][name] += value

    q = select(Appointment).where(or_(
        (Appointment.starts_at >= lo) & (Appointment.starts_at < hi),
        (Appointment.created_at >= lo) & (Appointment.created_at < hi),
        (Appointment.cancelled_at >= lo) & (Appointment.cancelled_at < hi)))
    # Plain rows, not ORM objects: a year of a town is tens of thousands of appointments.
    items: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for appt_id, service_id, count in session.execute(
            select(AppointmentService.appointment_id, AppointmentService.service_id, AppointmentService.count)
            .where(AppointmentService.appointment_id.in_(q.with_only_columns(Appointment.id)))
            .order_by(AppointmentService.appointment_id, AppointmentService.position)):
        items[appt_id].append((service_id, count))
    cols = [getattr(Appointment, a) for a in tracking.APPOINTMENT_ATTRS]
    for row in session.execute(q.with_only_columns(Appointment.id, *cols)):
        state = dict(zip(tracking.APPOINTMENT_ATTRS, row[1:]))
        state["items"] = tuple(items.get(row[0], ()))
        add(tracking.appointment_contribution(state, tz))
    conn = session.connection()
    for entry in session.scalars(select(QueueEntry).where(QueueEntry.day >= first, QueueEntry.day <= last)):
        s = tracking.state_of(entry)
        add(tracking.queue_contribution(s, tracking.queue_source(conn, tenant.id, s)))
    offices = dict(session.execute(select(Service.id, Service.office_id)).all())
    for entry in session.scalars(select(WaitlistEntry).where(or_(
            (WaitlistEntry.created_at >= lo) & (WaitlistEntry.created_at < hi),
            (WaitlistEntry.offered_at >= lo) & (WaitlistEntry.offered_at < hi)))):
        if offices.get(entry.service_id):
            add(tracking.waitlist_contribution(tracking.state_of(entry), offices[entry.service_id], tz))
    for req in session.scalars(select(EmergencyRequest).where(
            EmergencyRequest.created_at >= lo, EmergencyRequest.created_at < hi)):
        if offices.get(req.service_id):
            add(tracking.emergency_contribution(tracking.state_of(req), offices[req.service_id], tz))
    for key, figures in kept.items():
        for f, value in figures.items():
            if value:
                sums[key][f] += value
    rows = [{"tenant_id": tenant.id, "day": k[0], "office_id": k[1], "service_id": k[2], "source": k[3],
             **{f: v.get(f, 0) for f in FIGURES}} for k, v in sorted(sums.items()) if any(v.values())]
    tracking.upsert_days(session, rows)
    record_capacity(tenant, first, last)
    return len(rows)
