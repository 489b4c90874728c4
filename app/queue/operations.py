"""The queue's rules: who may check in when, ticket numbers and quotas, the call order,
and what a clerk does with the person called. Plain functions: they flush, the caller
commits once (the screen's signal goes out with that commit).

The call order for a counter: emergencies first; then checked-in appointments that are
due (start within `queue_due_tolerance_minutes`), earliest start first; then walk-ins in
arrival order; then appointments checked in early, earliest start first. Only entries
for a service the counter serves, and not passed on to another counter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.booking import staff
from app.booking.codes import by_code
from app.booking.models import Appointment
from app.catalog.models import Service, ServiceCounter
from app.extensions import db
from app.offices.models import Closure, Counter, Office, OpeningHours
from app.queue import signal
from app.queue.models import OfficeQueue, QueueCall, QueueDay, QueueEntry, WalkInQuota
from app.scheduling.calendar import is_holiday, today_in, zone
from app.transaction import claim

# Ranks of the call order (see the module docstring).
EMERGENCY, DUE, WALK_IN, EARLY = 0, 1, 2, 3
LAST_CALLS = 10


class QueueError(ValueError):
    """A queue action that cannot be done; `code` says why, for the page's message."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


# --- set-up ---------------------------------------------------------------------------------
def queue_office(slug: str) -> Office | None:
    """The office in service under `slug` that keeps a queue (its screen, the API's queue); None otherwise."""
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    return office if office is not None and queue_of(office) is not None else None


def queue_of(office: Office) -> OfficeQueue | None:
    """The office's queue if it keeps one (enabled)."""
    q = db.session.scalar(select(OfficeQueue).where(OfficeQueue.office_id == office.id))
    return q if q is not None and q.enabled else None


def setup_of(office: Office) -> OfficeQueue:
    """The office's queue set-up, created (switched off) when it has none yet."""
    q = db.session.scalar(select(OfficeQueue).where(OfficeQueue.office_id == office.id))
    if q is None:
        q = OfficeQueue(tenant_id=office.tenant_id, office_id=office.id, enabled=False)
        db.session.add(q)
        db.session.flush()
    return q


def configure(office: Office, *, enabled: bool, quotas: dict[int, int | None],
              ticket_prefix: str | None = None) -> OfficeQueue:
    """Switch the office's queue on or off and set the walk-in quota per service id
    (None: no walk-ins for that service)."""
    q = setup_of(office)
    q.enabled = enabled
    if ticket_prefix is not None:
        prefix = ticket_prefix.strip().upper()
        if not (1 <= len(prefix) <= 3 and prefix.isalpha()):
            raise QueueError("bad_prefix")
        q.ticket_prefix = prefix
    have = {w.service_id: w for w in db.session.scalars(select(WalkInQuota).where(WalkInQuota.office_id == office.id))}
    for service_id, per_day in quotas.items():
        if per_day is not None and not 0 <= per_day <= 999:
            raise QueueError("bad_quota")
        row = have.get(service_id)
        if per_day is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(WalkInQuota(tenant_id=office.tenant_id, office_id=office.id, service_id=service_id,
                                       per_day=per_day))
        else:
            row.per_day = per_day
    db.session.flush()
    return q


def quotas_of(office: Office) -> dict[int, int]:
    return {w.service_id: w.per_day
            for w in db.session.scalars(select(WalkInQuota).where(WalkInQuota.office_id == office.id))}


def office_services(office: Office) -> list[Service]:
    return list(db.session.scalars(select(Service).where(Service.office_id == office.id, Service.active.is_(True))
                                   .order_by(Service.position, Service.name)))


@dataclass(frozen=True)
class WalkInOffer:
    service: Service
    per_day: int
    left: int


def walk_in_offers(office: Office, day: date) -> list[WalkInOffer]:
    """Services a walk-in may draw a ticket for today, with the tickets left of each quota."""
    quotas = quotas_of(office)
    used = dict(db.session.execute(
        select(QueueEntry.service_id, func.count()).where(
            QueueEntry.office_id == office.id, QueueEntry.day == day, QueueEntry.kind == "walk_in")
        .group_by(QueueEntry.service_id)).all())
    return [WalkInOffer(s, quotas[s.id], max(0, quotas[s.id] - used.get(s.id, 0)))
            for s in office_services(office) if s.id in quotas]


def local_day(tenant, now: datetime) -> date:
    return today_in(zone(tenant.timezone), now)


# --- arrival --------------------------------------------------------------------------------
def _next_number(office: Office, day: date) -> int:
    """The next ticket number of the office and day. The UPDATE keeps the day's row
    locked until commit (PostgreSQL: the row; SQLite: the database), so the tickets and
    the quota count made after this of one office are drawn one at a time."""
    session = db.session
    bump = (update(QueueDay).where(QueueDay.office_id == office.id, QueueDay.day == day)
            .values(last_number=QueueDay.last_number + 1).execution_options(synchronize_session=False))
    if session.execute(bump).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(QueueDay(tenant_id=office.tenant_id, office_id=office.id, day=day, last_number=1))
            return 1
        except IntegrityError:  # another first ticket of the day was quicker
            session.execute(bump)
    return session.scalar(select(QueueDay.last_number).where(QueueDay.office_id == office.id, QueueDay.day == day))


def find_appointment(code: str) -> Appointment | None:
    return by_code(Appointment.code, code)


def check_in_by_code(tenant, office: Office, code: str, now: datetime) -> QueueEntry:
    """Check in at the kiosk or the front desk of `office` with the booking code read out,
    typed or scanned; a code of another office's appointment is not found here."""
    appt = find_appointment(code)
    if appt is None or appt.office_id != office.id:
        raise QueueError("not_found")
    return check_in(tenant, appt, now)


def record_status(tenant, appt: Appointment, status: str, now: datetime) -> None:
    """A clerk's status change in the day view. Checked in today at an office that keeps a
    queue, the appointment joins the queue as well."""
    if (status == "checked_in" and appt.status == "booked" and queue_of(appt.office) is not None
            and appt.starts_at.astimezone(zone(tenant.timezone)).date() == local_day(tenant, now)):
        check_in(tenant, appt, now, by_staff=True)
    else:
        staff.set_status(appt, status, now)


def check_in(tenant, appt: Appointment, now: datetime, *, by_staff: bool = False) -> QueueEntry:
    """Put a booked appointment of today into its office's queue, within the tenant's
    arrival window (a clerk's check-in in the day view: any time of the day). Checking
    in again shows the same ticket."""
    office = appt.office
    q = queue_of(office)
    if q is None:
        raise QueueError("no_queue")
    existing = db.session.scalar(select(QueueEntry).where(QueueEntry.appointment_id == appt.id))
    if existing is not None:
        if appt.status == "checked_in":
            return existing
        raise QueueError("not_booked", status=appt.status)
    if appt.status != "booked":
        raise QueueError("not_booked", status=appt.status)
    day = local_day(tenant, now)
    if appt.starts_at.astimezone(zone(tenant.timezone)).date() != day:
        raise QueueError("not_today", start=appt.starts_at)
    early = timedelta(minutes=int(tenant.settings["queue_checkin_early_minutes"]))
    late = timedelta(minutes=int(tenant.settings["queue_checkin_late_minutes"]))
    if now < appt.starts_at - early and not by_staff:
        raise QueueError("too_early", opens=appt.starts_at - early)
    if now > appt.starts_at + late and not by_staff:
        raise QueueError("too_late")
    number = _next_number(office, day)
    entry = QueueEntry(tenant_id=appt.tenant_id, office_id=office.id, day=day, number=number,
                       ticket=f"{q.appointment_prefix}-{number:03d}", kind="appointment", appointment_id=appt.id,
                       service_id=appt.service_id, emergency=appt.source == "emergency", due_at=appt.starts_at,
                       checked_in_at=now)
    db.session.add(entry)
    staff.set_status(appt, "checked_in", now)
    signal.changed(office)
    return entry


def walk_in_service(office: Office, *, slug: str | None = None, service_id: int | None = None) -> Service:
    """The service a walk-in's ticket is for, one of `office`'s (by slug at the kiosk, by id
    at the front desk)."""
    named = Service.id == service_id if service_id is not None else Service.slug == (slug or "")
    service = db.session.scalar(select(Service).where(named, Service.office_id == office.id))
    if service is None:
        raise QueueError("unknown_service")
    return service


def todays_entry(tenant, office: Office, entry_id: int, now: datetime) -> QueueEntry | None:
    """An entry of `office`'s queue today (a ticket page shows nothing of other days)."""
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or entry.office_id != office.id or entry.day != local_day(tenant, now):
        return None
    return entry


def parked(tenant, office: Office, now: datetime) -> list[QueueEntry]:
    """Today's entries set aside at `office`, first checked in first."""
    return list(db.session.scalars(select(QueueEntry).where(
        QueueEntry.office_id == office.id, QueueEntry.day == local_day(tenant, now),
        QueueEntry.status == "parked").order_by(QueueEntry.checked_in_at)))


def draw_ticket(tenant, office: Office, service: Service, now: datetime, *, name: str = "",
                emergency: bool = False) -> QueueEntry:
    """A walk-in ticket for a service, while its daily quota lasts."""
    q = queue_of(office)
    if q is None:
        raise QueueError("no_queue")
    if service.office_id != office.id:
        raise QueueError("unknown_service")
    name = (name or "").strip()
    if len(name) > 100:
        raise QueueError("name_too_long")
    day = local_day(tenant, now)
    number = _next_number(office, day)  # locks the office's day: the count below is exact
    quota = db.session.scalar(select(WalkInQuota.per_day).where(WalkInQuota.office_id == office.id,
                                                                WalkInQuota.service_id == service.id))
    used = db.session.scalar(select(func.count()).select_from(QueueEntry).where(
        QueueEntry.office_id == office.id, QueueEntry.day == day, QueueEntry.kind == "walk_in",
        QueueEntry.service_id == service.id))
    if quota is None or used >= quota:
        raise QueueError("quota_used_up", service=service.name)
    entry = QueueEntry(tenant_id=office.tenant_id, office_id=office.id, day=day, number=number,
                       ticket=f"{q.ticket_prefix}-{number:03d}", kind="walk_in", service_id=service.id, name=name,
                       emergency=emergency, checked_in_at=now)
    db.session.add(entry)
    db.session.flush()
    signal.changed(office)
    return entry


# --- the call order -------------------------------------------------------------------------
def served_service_ids(counter: Counter) -> list[int]:
    """Services of the counter's office it serves (a service with no counters listed: all)."""
    services = db.session.scalars(select(Service.id).where(Service.office_id == counter.office_id))
    links: dict[int, set[int]] = {}
    for link in db.session.scalars(select(ServiceCounter)):
        links.setdefault(link.service_id, set()).add(link.counter_id)
    return [sid for sid in services if sid not in links or counter.id in links[sid]]


def _rank(now: datetime, tolerance: timedelta):
    return case(
        (QueueEntry.emergency.is_(True), EMERGENCY),
        ((QueueEntry.kind == "appointment") & (QueueEntry.due_at <= now + tolerance), DUE),
        (QueueEntry.kind == "walk_in", WALK_IN),
        else_=EARLY,
    )


def in_call_order(tenant, office: Office, now: datetime, counter: Counter | None = None):
    """SELECT of the office's waiting entries of today in call order (for `counter`: only
    those it may call)."""
    tolerance = timedelta(minutes=int(tenant.settings["queue_due_tolerance_minutes"]))
    rank = _rank(now, tolerance)
    q = select(QueueEntry).where(QueueEntry.office_id == office.id, QueueEntry.day == local_day(tenant, now),
                                 QueueEntry.status == "waiting")
    if counter is not None:
        q = q.where(QueueEntry.service_id.in_(served_service_ids(counter)),
                    (QueueEntry.target_counter_id.is_(None)) | (QueueEntry.target_counter_id == counter.id))
    when = case((rank.in_((DUE, EARLY)), QueueEntry.due_at), else_=QueueEntry.checked_in_at)
    return q.order_by(rank, when, QueueEntry.checked_in_at, QueueEntry.id)


def waiting(tenant, office: Office, now: datetime, counter: Counter | None = None) -> list[QueueEntry]:
    """The entries of `in_call_order`, their service and appointment loaded (the clerk's list)."""
    return list(db.session.scalars(in_call_order(tenant, office, now, counter)
                                   .options(selectinload(QueueEntry.service), selectinload(QueueEntry.appointment))))


def waiting_count(tenant, office: Office, now: datetime) -> int:
    """How many of the office wait today (every counter's)."""
    return db.session.scalar(select(func.count()).select_from(in_call_order(tenant, office, now).order_by(None)
                                                              .subquery()))


def current_at(counter: Counter) -> QueueEntry | None:
    """The person this counter has called and not yet finished."""
    return db.session.scalar(select(QueueEntry).where(QueueEntry.counter_id == counter.id,
                                                      QueueEntry.status == "called")
                             .execution_options(populate_existing=True))


def call_next(tenant, counter: Counter, now: datetime, *, serving: int | None = None) -> QueueEntry | None:
    """Finish whoever this counter is serving, then call the next person for it, or None.

    `serving` is the entry the clerk's page showed as being served (None: nobody); if
    the counter serves someone else by now (a second click, a second tab) nothing is
    done, so one click never skips a person. The counter's row is locked first, so two
    calls from one counter run one after the other.

    The candidate row is claimed (PostgreSQL: FOR UPDATE SKIP LOCKED, so a parallel call
    at another counter takes the next one instead of waiting) and moved by a conditional
    UPDATE … WHERE status = 'waiting': a row another transaction called in between is
    not called again."""
    office = counter.office
    if queue_of(office) is None:
        raise QueueError("no_queue")
    db.session.execute(select(Counter.id).where(Counter.id == counter.id).with_for_update())
    current = current_at(counter)
    if (current.id if current else None) != serving:
        raise QueueError("stale")
    if current is not None:
        finish(current, now)
    for _ in range(5):
        entry = claim(in_call_order(tenant, office, now, counter).limit(1))
        if entry is None:
            return None
        moved = db.session.execute(
            update(QueueEntry).where(QueueEntry.id == entry.id, QueueEntry.status == "waiting")
            .values(status="called", counter_id=counter.id, target_counter_id=None,
                    called_at=entry.called_at or now, last_called_at=now,
                    call_count=QueueEntry.call_count + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved == 1:
            db.session.refresh(entry)
            _announce(entry, counter, now)
            return entry
    return None


def _announce(entry: QueueEntry, counter: Counter, now: datetime) -> None:
    db.session.add(QueueCall(tenant_id=entry.tenant_id, office_id=entry.office_id, entry_id=entry.id,
                             counter_id=counter.id, called_at=now))
    db.session.flush()
    signal.changed(counter.office)


def _require(entry: QueueEntry, *statuses: str) -> None:
    if entry.status not in statuses:
        raise QueueError("wrong_status", status=entry.status)


def recall(entry: QueueEntry, now: datetime) -> None:
    """Call the same person again (shown on the screen again)."""
    _require(entry, "called")
    entry.last_called_at = now
    entry.call_count += 1
    _announce(entry, entry.counter, now)


def finish(entry: QueueEntry, now: datetime) -> None:
    _close(entry, "finished", now, appointment_status="completed")


def mark_missed(entry: QueueEntry, now: datetime) -> None:
    """Called, but nobody came."""
    _close(entry, "missed", now, appointment_status="no_show")


def _close(entry: QueueEntry, status: str, now: datetime, *, appointment_status: str) -> None:
    """End a called person's turn: the entry's time of `status`, and the appointment's outcome."""
    _require(entry, "called")
    entry.status = status
    setattr(entry, f"{status}_at", now)
    if entry.appointment is not None and entry.appointment.status == "checked_in":
        staff.set_status(entry.appointment, appointment_status, now)
    db.session.flush()
    signal.changed(db.session.get(Office, entry.office_id))


def park(entry: QueueEntry) -> None:
    """Set aside (documents missing, a form to fill in); not called until resumed."""
    _require(entry, "called", "waiting")
    entry.status = "parked"
    entry.counter_id = None
    db.session.flush()
    signal.changed(db.session.get(Office, entry.office_id))


def resume(entry: QueueEntry) -> None:
    """A parked person waits again, in their old place."""
    _require(entry, "parked")
    entry.status = "waiting"
    db.session.flush()
    signal.changed(db.session.get(Office, entry.office_id))


def pass_on(tenant, entry: QueueEntry, *, counter: Counter | None = None, office: Office | None = None,
            now: datetime) -> None:
    """Pass the person to another counter (only it calls them next) or to another
    office's queue (same ticket, waiting there from now)."""
    _require(entry, "called", "waiting", "parked")
    if counter is not None:
        if counter.office_id != entry.office_id:
            raise QueueError("other_office_counter")
        entry.target_counter_id = counter.id
    elif office is not None and office.id != entry.office_id:
        if queue_of(office) is None:
            raise QueueError("no_queue")
        services = office_services(office)
        if not services:
            raise QueueError("unknown_service")
        old_office = db.session.get(Office, entry.office_id)
        same = next((s for s in services if s.id == entry.service_id), services[0])
        entry.office_id = office.id
        entry.service_id = same.id
        entry.number = _next_number(office, local_day(tenant, now))
        entry.ticket = f"{setup_of(office).ticket_prefix}-{entry.number:03d}"
        entry.target_counter_id = None
        entry.checked_in_at = now
        signal.changed(old_office)
    else:
        raise QueueError("no_target")
    entry.status = "waiting"
    entry.counter_id = None
    db.session.flush()
    signal.changed(db.session.get(Office, entry.office_id))


# --- what the screen and the API show -------------------------------------------------------
@dataclass(frozen=True)
class Board:
    office: Office
    open: bool
    waiting: int
    estimated_wait_minutes: int | None
    called: list[tuple[str, str, datetime]]  # ticket, counter name, when
    updated_at: datetime


def board(tenant, office: Office, now: datetime, *, is_open: bool) -> Board:
    """The office's queue as the screen and GET …/queue show it: no names, ever."""
    day = local_day(tenant, now)
    waiting_q = select(QueueEntry).where(QueueEntry.office_id == office.id, QueueEntry.day == day,
                                         QueueEntry.status == "waiting")
    waiting = list(db.session.scalars(waiting_q))
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone(tenant.timezone))
    calls = db.session.execute(
        select(QueueEntry.ticket, Counter.name, QueueCall.called_at)
        .join(QueueEntry, QueueEntry.id == QueueCall.entry_id)
        .join(Counter, Counter.id == QueueCall.counter_id)
        .where(QueueCall.office_id == office.id, QueueCall.called_at >= start)
        .order_by(QueueCall.called_at.desc(), QueueCall.id.desc()).limit(LAST_CALLS)).all()
    today = (QueueEntry.office_id == office.id, QueueEntry.day == day)
    stamps = [t for t in db.session.execute(select(
        func.max(QueueEntry.checked_in_at), func.max(QueueEntry.last_called_at), func.max(QueueEntry.finished_at),
        func.max(QueueEntry.missed_at)).where(*today)).one() if t]
    return Board(office=office, open=is_open, waiting=len(waiting),
                 estimated_wait_minutes=estimated_wait(office, day, start, waiting),
                 called=[(t, c, at) for t, c, at in calls], updated_at=max(stamps) if stamps else start)


def estimated_wait(office: Office, day: date, since: datetime, waiting: list[QueueEntry]) -> int:
    """Minutes the last one waiting can expect: the work ahead (today's average service
    time, or the services' durations before anyone is done) spread over the counters
    serving today (at least one)."""
    if not waiting:
        return 0
    done = db.session.execute(select(QueueEntry.last_called_at, QueueEntry.finished_at).where(
        QueueEntry.office_id == office.id, QueueEntry.day == day, QueueEntry.status == "finished")).all()
    durations = {s.id: s.duration_minutes for s in office_services(office)}
    if done:
        average = sum((f - c).total_seconds() for c, f in done if c and f) / 60 / len(done)
        work = average * len(waiting)
    else:
        work = sum(durations.get(e.service_id, 10) for e in waiting)
    counters = db.session.scalar(select(func.count(func.distinct(QueueCall.counter_id))).where(
        QueueCall.office_id == office.id, QueueCall.called_at >= since)) or 0
    if not counters:
        counters = db.session.scalar(select(func.count()).select_from(Counter).where(
            Counter.office_id == office.id, Counter.active.is_(True))) or 1
    return max(1, math.ceil(work / counters))


def is_open(tenant, office: Office, now: datetime) -> bool:
    """Whether the office is open at `now`: an opening-hours rule of today covers the
    time (the office's own or one counter's), and no closure of the whole office or
    public holiday gets in the way."""
    tz = zone(tenant.timezone)
    local = now.astimezone(tz)
    day = local.date()
    if is_holiday(tenant.state, day):
        return False
    closed = db.session.scalar(select(func.count()).select_from(Closure).where(
        Closure.office_id == office.id, Closure.counter_id.is_(None), Closure.starts_at <= now,
        Closure.ends_at > now))
    if closed:
        return False
    rules = db.session.scalars(select(OpeningHours).where(OpeningHours.office_id == office.id,
                                                          OpeningHours.weekday == day.weekday()))
    wall = local.time().replace(tzinfo=None)
    return any(r.valid_on(day) and r.opens <= wall < r.closes for r in rules)


def version(office: Office, day: date) -> str:
    """Changes whenever anything the screen shows may have changed (for its long poll)."""
    today = (QueueEntry.office_id == office.id, QueueEntry.day == day)
    row = db.session.execute(select(
        func.count(), func.max(QueueEntry.checked_in_at), func.max(QueueEntry.last_called_at),
        func.max(QueueEntry.finished_at), func.max(QueueEntry.missed_at),
        func.sum(case((QueueEntry.status == "waiting", 1), else_=0))).where(*today)).one()
    calls = db.session.scalar(select(func.count()).select_from(QueueCall).where(QueueCall.office_id == office.id))
    return "-".join(str(v) for v in (*row, calls))
