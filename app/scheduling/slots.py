"""Which starts a visit can be booked at, and how many more bookings each can take.

A visit is one or more services with counts (app/catalog/visits.py); a plain `Service`
is the visit of that one service for one person. A start is bookable when one counter
that serves every service of the visit is free for the visit's whole duration.

All data for a window is read with one query per kind (counters, hours, closures,
appointments); the rest is arithmetic on UTC seconds per counter and day.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import select

from app import clock
from app.booking.models import MAX_DURATION_MINUTES, Appointment
from app.catalog.models import Service, ServiceCounter
from app.catalog.visits import Visit, as_visit
from app.extensions import db, epoch
from app.scheduling import answers
from app.scheduling import cache as slot_cache
from app.offices.models import Closure, Counter, OpeningHours
from app.tenancy.scope import current_tenant_id
from app.tenancy.settings import draw_service_slugs
from app.scheduling.calendar import day_bounds_utc, is_holiday, local_to_utc, today_in, zone


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    free: int
    office_id: int
    counter_ids: tuple[int, ...] = ()  # counters that can still take it, in preference order


@dataclass(frozen=True)
class Policy:
    """The tenant settings a slot computation needs."""

    timezone: str
    state: str
    slot_minutes: int
    horizon_days: int
    lead_minutes: int
    held_back_share: float
    release_time: time | None = None  # the day entering the horizon opens at this local time
    cooling_off_minutes: int = 0  # release_cancelled_after_minutes
    draw_services: frozenset[str] = frozenset()  # fair_draw_services: slugs drawn by lot on release
    draw_minutes: int = 0  # fair_draw_minutes: how long a released day collects entries

    @classmethod
    def of(cls, tenant) -> Policy:
        s = tenant.settings
        release = s.get("release_time") or ""
        drawn = frozenset(draw_service_slugs(s.get("fair_draw_services") or []) or ())
        return cls(tenant.timezone, tenant.state, int(s["slot_minutes"]), int(s["horizon_days"]),
                   int(s["lead_minutes"]), float(s["held_back_share"]),
                   time.fromisoformat(release) if release else None,
                   int(s.get("release_cancelled_after_minutes") or 0),
                   drawn, int(s.get("fair_draw_minutes") or 30) if drawn else 0)

    def held_as_of(self, now: datetime, online: bool) -> datetime | None:
        """The moment against which cancelled starts still count as busy: online only, and
        only where the tenant holds cancelled slots back."""
        return now if online and self.cooling_off_minutes else None


def held_back(open_counters: int, share: float) -> int:
    """Counters kept free for staff and emergencies (share of those open, rounded half up)."""
    return int(open_counters * share + 0.5) if share > 0 else 0


def serving_counters(demand: Service | Visit) -> list[Counter]:
    """Active counters of the office that serve every service of the visit (a service
    that names no counters is served by all of them)."""
    visit = as_visit(demand)
    if visit.office_id is None:
        return []
    service_ids = [svc.id for svc in visit.services]
    rows = db.session.execute(
        select(Counter, ServiceCounter.service_id)
        .outerjoin(ServiceCounter, (ServiceCounter.counter_id == Counter.id)
                   & ServiceCounter.service_id.in_(service_ids))
        .where(Counter.office_id == visit.office_id, Counter.active.is_(True))
        .order_by(Counter.position, Counter.id)
    ).all()
    by_id = {counter.id: counter for counter, _ in rows}
    return [by_id[cid] for cid in serving_ids([(counter.id, sid) for counter, sid in rows])]


def serving_ids(rows: Iterable[tuple[int, int | None]]) -> list[int]:
    """From (active counter, a service of the visit it is named for, or None) in counter
    order: the counters that serve every service of the visit (one naming no counters is
    served by all of them)."""
    order: dict[int, None] = {}
    serves: dict[int, set[int]] = {}  # service -> counters it names
    for cid, sid in rows:
        order.setdefault(cid, None)
        if sid is not None:
            serves.setdefault(sid, set()).add(cid)
    return [cid for cid in order if all(cid in named for named in serves.values())]


@dataclass(frozen=True)
class Hours:
    """An opening-hours rule as the slot engine reads it (the fields of OpeningHours)."""

    counter_id: int | None
    weekday: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_until: date | None = None

    valid_on = OpeningHours.valid_on


@dataclass(frozen=True)
class Closed:
    """A closure as the slot engine reads it (the fields of Closure)."""

    counter_id: int | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class DayData:
    """Everything a check of one day reads, fetched by the caller in one statement (the
    booking, under its lock): the office's active counters in order, each with a service
    of the visit that names it (or None); the office's hours of that weekday; the closures
    touching the day; the appointments that keep a counter busy, as (counter id, start,
    end) in seconds since the epoch, sorted by counter and start."""

    counters: list[tuple[int, int | None]]
    rules: list[Hours]
    closures: list[Closed]
    busy: list[tuple[int, float, float]]


class Schedule:
    """The loaded data of one visit's office for a window of days."""

    def __init__(self, demand: Service | Visit, policy: Policy, first_day: date, last_day: date,
                 *, exclude_appointment_id: int | None = None, with_bookings: bool = True,
                 held_as_of: datetime | None = None, preloaded: DayData | None = None):
        self.visit = as_visit(demand)
        self.service = self.visit.first
        self.office_id = self.visit.office_id
        self.duration_minutes = self.visit.duration_minutes
        self.policy = policy
        self.tz = zone(policy.timezone)
        self.first_day = first_day
        self.last_day = last_day
        if preloaded is None:
            self.counter_ids = [c.id for c in serving_counters(self.visit)]
        else:
            self.counter_ids = serving_ids(preloaded.counters)
        self.window_start, _ = day_bounds_utc(first_day, self.tz)
        _, self.window_end = day_bounds_utc(last_day, self.tz)
        # Online, a start a citizen cancelled stays busy until its `online_again_at`
        # (cooling-off); `visible_again` is the earliest such moment in the window, when a
        # computed answer goes stale without any write.
        self.held_as_of = held_as_of
        self.visible_again: float | None = None
        answers.note_office(self.office_id)  # before reading: a shared answer is stamped with it
        if preloaded is None:
            self._load(exclude_appointment_id, with_bookings)
        else:
            self.rules, self.closures = list(preloaded.rules), list(preloaded.closures)
            self.busy = {cid: [] for cid in self.counter_ids}
            self._add_busy(preloaded.busy)

    def _load(self, exclude_id: int | None, with_bookings: bool = True) -> None:
        self.rules: list[OpeningHours] = []
        self.closures: list[Closure] = []
        self.busy: dict[int, list[tuple[float, float]]] = {cid: [] for cid in self.counter_ids}
        if not self.counter_ids:
            return
        office_id = self.office_id
        self.rules = list(db.session.scalars(
            select(OpeningHours).where(OpeningHours.office_id == office_id)
            .order_by(OpeningHours.weekday, OpeningHours.opens)
        ))
        self.closures = list(db.session.scalars(
            select(Closure).where(Closure.office_id == office_id, Closure.ends_at > self.window_start,
                                  Closure.starts_at < self.window_end)
        ))
        self.busy_starts = {cid: [] for cid in self.counter_ids}
        if not with_bookings:
            return
        # Seconds since the epoch straight from the database: thousands of rows a window
        # in the rush, so no datetime objects; back-to-back appointments are merged on
        # the way in, so a booked-out day is one span per counter.
        # Executed on the Core connection (no ORM row machinery), so the tenant is named
        # here explicitly instead of by the automatic scope.
        q = select(Appointment.counter_id, epoch(Appointment.starts_at), epoch(Appointment.ends_at)).where(
            Appointment.tenant_id == current_tenant_id(),
            Appointment.counter_id.in_(self.counter_ids),
            # Both bounds on starts_at keep this an index range scan however many
            # past appointments there are.
            Appointment.starts_at < self.window_end,
            Appointment.starts_at > self.window_start - timedelta(minutes=MAX_DURATION_MINUTES),
            Appointment.ends_at > self.window_start,
        ).order_by(Appointment.counter_id, Appointment.starts_at)
        if self.held_as_of is None:
            q = q.where(Appointment.status != "cancelled")
        else:
            q = q.add_columns(epoch(Appointment.online_again_at)).where(
                (Appointment.status != "cancelled") | (Appointment.online_again_at > self.held_as_of))
        if exclude_id is not None:
            q = q.where(Appointment.id != exclude_id)
        self._add_busy(db.session.connection().execute(q).all())

    def _add_busy(self, rows) -> None:
        for cid, s, e, *held in rows:
            if held and held[0] is not None:
                self.visible_again = min(self.visible_again or held[0], held[0])
            spans = self.busy.get(cid)
            if spans is None:
                continue  # a counter of the office that does not serve the visit
            s, e = round(s), round(e)
            if spans and s <= spans[-1][1]:
                if e > spans[-1][1]:
                    spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
        self.busy_starts = {cid: [s for s, _ in spans] for cid, spans in self.busy.items()}

    # --- per day -----------------------------------------------------------------------
    def open_spans(self, day: date) -> dict[int, list[tuple[float, float]]]:
        """Per counter, the UTC seconds it is open on `day` (hours minus closures)."""
        if is_holiday(self.policy.state, day):
            return {cid: [] for cid in self.counter_ids}
        weekday = day.weekday()
        todays = [r for r in self.rules if r.weekday == weekday and r.valid_on(day)]
        office_rules = [r for r in todays if r.counter_id is None]
        day_start, day_end = day_bounds_utc(day, self.tz)
        ds, de = day_start.timestamp(), day_end.timestamp()
        closed = [(c.counter_id, c.starts_at.timestamp(), c.ends_at.timestamp()) for c in self.closures
                  if c.starts_at.timestamp() < de and c.ends_at.timestamp() > ds]
        spans: dict[int, list[tuple[float, float]]] = {}
        for cid in self.counter_ids:
            own = [r for r in todays if r.counter_id == cid]
            rules = own or office_rules
            raw = sorted(
                (local_to_utc(day, r.opens, self.tz).timestamp(), local_to_utc(day, r.closes, self.tz).timestamp())
                for r in rules
            )
            cuts = [(s, e) for c_cid, s, e in closed if c_cid is None or c_cid == cid]
            spans[cid] = _subtract(_merge(raw), cuts)
        return spans

    def free_spans(self, cid: int, open_spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Open spans minus this counter's appointments that touch them."""
        if not open_spans:
            return []
        busy = self.busy.get(cid, ())
        starts = self.busy_starts.get(cid, ())
        lo = bisect.bisect_left(starts, open_spans[0][0] - MAX_DURATION_MINUTES * 60)
        hi = bisect.bisect_left(starts, open_spans[-1][1])
        return _subtract(open_spans, busy[lo:hi])

    def starts_on(self, day: date, spans_by_counter: dict[int, list[tuple[float, float]]]) -> list[float]:
        """Grid starts (wall-clock aligned) at which the visit fits in one of the spans."""
        grid = self.policy.slot_minutes * 60
        dur = self.duration_minutes * 60
        midnight = day_bounds_utc(day, self.tz)[0].timestamp()
        starts: set[float] = set()
        for spans in spans_by_counter.values():
            for s, e in spans:
                # Align to the local wall clock: minutes since local midnight divisible by the grid.
                local_offset = _local_seconds(s, self.tz, day, midnight)
                t = s + (-local_offset) % grid
                while t + dur <= e:
                    starts.add(t)
                    t += grid
        return sorted(starts)


def _local_seconds(ts: float, tz, day: date, midnight: float) -> float:
    """Seconds since local midnight on the wall clock (not elapsed: DST days differ)."""
    dt = datetime.fromtimestamp(ts, tz)
    return dt.hour * 3600 + dt.minute * 60 + dt.second


def _merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _subtract(spans: list[tuple[float, float]], cuts: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint `spans` minus `cuts`, in one sweep."""
    cuts = sorted(cuts)
    if not cuts:
        return list(spans)
    result: list[tuple[float, float]] = []
    i = 0
    for s, e in spans:
        while i < len(cuts) and cuts[i][1] <= s:
            i += 1
        j = i
        cursor = s
        while j < len(cuts) and cuts[j][0] < e:
            cs, ce = cuts[j]
            if cs > cursor:
                result.append((cursor, cs))
            cursor = max(cursor, ce)
            j += 1
        if cursor < e:
            result.append((cursor, e))
    return result


def covers(spans: list[tuple[float, float]], s: float, e: float) -> bool:
    i = bisect.bisect_right(spans, (s, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= s and e <= spans[i][1]


def bookable_window(policy: Policy, now: datetime, *, online: bool) -> tuple[date, date, datetime]:
    """(first day, last day, earliest start) a booking may use."""
    tz = zone(policy.timezone)
    today = today_in(tz, now)
    if online:
        return today, last_bookable_day(policy, now), now + timedelta(minutes=policy.lead_minutes)
    return today, today + timedelta(days=366), now


def last_bookable_day(policy: Policy, now: datetime) -> date:
    """The last day citizens may book now: the horizon's, but before the release time the
    day entering the horizon is not open yet."""
    local = now.astimezone(zone(policy.timezone))
    last = local.date() + timedelta(days=policy.horizon_days)
    if policy.release_time is not None and local.time() < policy.release_time:
        last -= timedelta(days=1)
    return last


def opens_at(policy: Policy, day: date) -> datetime:
    """When `day` becomes bookable online: horizon days before it, at the release time."""
    first = day - timedelta(days=policy.horizon_days)
    return datetime.combine(first, policy.release_time or time(0), tzinfo=zone(policy.timezone))


def changes_by_time_at(policy: Policy, now: datetime) -> float:
    """The next moment the bookable days move by time alone: local midnight, or the release
    time opening the day entering the horizon (seconds since the epoch)."""
    tz = zone(policy.timezone)
    local = now.astimezone(tz)
    moment = day_bounds_utc(local.date() + timedelta(days=1), tz)[0]
    if policy.release_time is not None and local.time() < policy.release_time:
        moment = min(moment, local_to_utc(local.date(), policy.release_time, tz))
    return moment.timestamp()


def _note_time(found: list[Slot], earliest: datetime, now: datetime, visible_again: float | None) -> None:
    """For a shared answer: when the first start becomes too soon, or a held start returns."""
    if found:
        answers.note_change_at(found[0].start.timestamp() - (earliest - now).total_seconds())
    answers.note_change_at(visible_again)


def draw_window(policy: Policy, day: date) -> tuple[datetime, datetime]:
    """When `day`'s fair draw collects entries: from its release for `draw_minutes`."""
    opens = opens_at(policy, day)
    return opens, opens + timedelta(minutes=policy.draw_minutes)


def drawn_service(policy: Policy, demand: Service | Visit) -> Service | None:
    """The visit's first service the tenant draws by lot on release, if any."""
    if not policy.draw_services:
        return None
    return next((svc for svc in as_visit(demand).services if svc.slug in policy.draw_services), None)


def draw_running(policy: Policy, demand: Service | Visit, start: datetime,
                 now: datetime) -> tuple[Service, date, datetime, datetime] | None:
    """(service, day, opens, closes) when a request for `start` now is an entry in that day's
    fair draw instead of a booking; None when it is first-come as always."""
    svc = drawn_service(policy, demand)
    if svc is None:
        return None
    day = start.astimezone(zone(policy.timezone)).date()
    opens, closes = draw_window(policy, day)
    return (svc, day, opens, closes) if opens <= now < closes else None


def compute_slots(demand: Service | Visit, policy: Policy, day_from: date, day_to: date, *,
                  now: datetime | None = None, online: bool = True, exclude_appointment_id: int | None = None,
                  limit: int | None = None) -> list[Slot]:
    """Bookable starts of a visit (or one service) between two local days (inclusive), earliest first."""
    visit = as_visit(demand)
    now = now or clock.now()
    first, last, earliest = bookable_window(policy, now, online=online)
    answers.note_change_at(changes_by_time_at(policy, now))
    day_from, day_to = max(day_from, first), min(day_to, last)
    if day_from > day_to or visit.office_id is None:
        return []
    answers.note_office(visit.office_id)  # before the database's version is read
    key = None
    if exclude_appointment_id is None and slot_cache.usable(db.session()):
        connection = db.session.connection()
        key = (visit.tenant_id, visit.key, visit.office_id, visit.duration_minutes, policy, first,
               day_from, day_to, online, limit, slot_cache.version(connection, visit.office_id))
        cached = slot_cache.get(key)
        if cached is not None and cached[0] <= earliest and (cached[2] is None or now.timestamp() < cached[2]):
            # Time only removes starts (too early now); it never adds one on the same day.
            # A cut-off list (limit) that lost starts may have missed later ones: recompute.
            kept = [s for s in cached[1] if s.start >= earliest]
            if limit is None or len(kept) == len(cached[1]):
                _note_time(kept, earliest, now, cached[2])
                return kept
    schedule = Schedule(visit, policy, day_from, day_to, exclude_appointment_id=exclude_appointment_id,
                        held_as_of=policy.held_as_of(now, online))
    slots = list(_iter_slots(schedule, earliest.timestamp(), online, limit))
    if key is not None:
        # A cancelled start held back from online booking comes back at `visible_again`
        # without any write: the answer is kept only until then.
        slot_cache.put(key, (earliest, slots, schedule.visible_again))
    _note_time(slots, earliest, now, schedule.visible_again)
    return slots


def _iter_slots(schedule: Schedule, earliest: float, online: bool, limit: int | None):
    dur = schedule.duration_minutes * 60
    share = schedule.policy.held_back_share if online else 0.0
    found = 0
    day = schedule.first_day
    while day <= schedule.last_day:
        open_by_counter = schedule.open_spans(day)
        free_by_counter = {cid: schedule.free_spans(cid, spans) for cid, spans in open_by_counter.items()}
        if not any(free_by_counter.values()):
            day += timedelta(days=1)
            continue  # booked out (or closed): the common case in a rush
        # A start needs a counter that can still take it, so only free spans propose starts.
        for t in schedule.starts_on(day, free_by_counter):
            if t < earliest:
                continue
            e = t + dur
            n_open = sum(1 for spans in open_by_counter.values() if covers(spans, t, e))
            able = tuple(cid for cid in schedule.counter_ids if covers(free_by_counter[cid], t, e))
            free = len(able) - held_back(n_open, share)
            if free >= 1:
                yield Slot(datetime.fromtimestamp(t, timezone.utc), datetime.fromtimestamp(e, timezone.utc),
                           free, schedule.office_id, able)
                found += 1
                if limit is not None and found >= limit:
                    return
        day += timedelta(days=1)


def next_slot(demand: Service | Visit, policy: Policy, *, now: datetime | None = None, online: bool = True,
              exclude_appointment_id: int | None = None) -> Slot | None:
    """The proposal: the earliest free start within the horizon, read week by week."""
    now = now or clock.now()
    first, last, _ = bookable_window(policy, now, online=online)
    day = first
    while day <= last:
        chunk_end = min(day + timedelta(days=13), last)
        slots = compute_slots(demand, policy, day, chunk_end, now=now, online=online,
                              exclude_appointment_id=exclude_appointment_id, limit=1)
        if slots:
            return slots[0]
        day = chunk_end + timedelta(days=1)
    return None


def slot_at(demand: Service | Visit, policy: Policy, start: datetime, *, now: datetime | None = None, online: bool = True,
            exclude_appointment_id: int | None = None, check_only: bool = False,
            read_day: Callable[[date], DayData] | None = None) -> tuple[str | None, Slot | None]:
    """Check one start. Returns (problem, slot): problem says why the start is not a
    bookable start at all (422); slot is None when it is bookable but full (409).
    `check_only` answers the first question alone, without reading bookings.
    `read_day(day)`: the caller reads the start's local day itself (`DayData`, with the
    same exclusion and cooling-off), in one statement; nothing else is read here then."""
    visit = as_visit(demand)
    now = now or clock.now()
    tz = zone(policy.timezone)
    first, last, earliest = bookable_window(policy, now, online=online)
    local = start.astimezone(tz)
    day = local.date()
    if start < now:
        return "is in the past", None
    if day > last:
        return f"is beyond the booking horizon (bookable until {last.isoformat()})", None
    if start < earliest:
        return f"is too soon; the earliest bookable time is {earliest.astimezone(tz).isoformat(timespec='minutes')}", None
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % policy.slot_minutes:
        return f"is not on the slot grid (every {policy.slot_minutes} minutes)", None
    if visit.office_id is None:
        return "is not offered for this service", None
    schedule = Schedule(visit, policy, day, day, exclude_appointment_id=exclude_appointment_id,
                        with_bookings=not check_only, held_as_of=policy.held_as_of(now, online),
                        preloaded=read_day(day) if read_day is not None and not check_only else None)
    open_by_counter = schedule.open_spans(day)
    t, e = start.timestamp(), start.timestamp() + visit.duration_minutes * 60
    n_open = sum(1 for spans in open_by_counter.values() if covers(spans, t, e))
    if n_open == 0:
        return "is outside opening hours", None
    if check_only:
        return None, None
    able = tuple(cid for cid in schedule.counter_ids
                 if covers(schedule.free_spans(cid, open_by_counter[cid]), t, e))
    free = len(able) - held_back(n_open, policy.held_back_share if online else 0.0)
    if free < 1:
        return None, None
    return None, Slot(start.astimezone(timezone.utc), datetime.fromtimestamp(e, timezone.utc), free,
                      visit.office_id, able)


def first_open_day_after(demand: Service | Visit, policy: Policy, day: date, *, days: int = 31) -> date | None:
    """The first day after `day` on which the visit's counters have opening hours."""
    if as_visit(demand).office_id is None:
        return None
    schedule = Schedule(demand, policy, day + timedelta(days=1), day + timedelta(days=days))
    d = day + timedelta(days=1)
    while d <= schedule.last_day:
        if any(schedule.open_spans(d).values()):
            return d
        d += timedelta(days=1)
    return None


def reopening(demand: Service | Visit, policy: Policy, now: datetime) -> tuple[date, date | None, datetime | None]:
    """When everything is taken: (the last bookable day, the first day after it that will
    become bookable, the moment booking that day opens)."""
    last = last_bookable_day(policy, now)
    answers.note_change_at(changes_by_time_at(policy, now))  # the last bookable day moves on
    reopens = first_open_day_after(demand, policy, last)
    return last, reopens, opens_at(policy, reopens) if reopens else None


def next_release(policy: Policy, now: datetime) -> tuple[datetime, date] | None:
    """(the next release moment, the day it opens) when the tenant releases days at a fixed time."""
    if policy.release_time is None:
        return None
    answers.note_change_at(changes_by_time_at(policy, now))  # the release moves on to the next day
    day = last_bookable_day(policy, now) + timedelta(days=1)
    return opens_at(policy, day), day


def draw_announcement(service, policy: Policy, now: datetime) -> tuple | None:
    """(minutes, the day being drawn now or None, when its draw is held) for a service whose
    newly released days are drawn by lot; None when it is first-come."""
    if drawn_service(policy, service) is None:
        return None
    day = last_bookable_day(policy, now)
    opens, closes = draw_window(policy, day)
    answers.note_change_at(changes_by_time_at(policy, now))
    for moment in (opens, closes):  # a shared page says "being drawn now" from `opens` until `closes`
        if moment > now:
            answers.note_change_at(moment.timestamp())
    return (policy.draw_minutes, day, closes) if opens <= now < closes else (policy.draw_minutes, None, None)
