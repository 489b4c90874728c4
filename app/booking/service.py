"""Booking, moving and cancelling appointments: the rules the API, the pages and the
back office all call. They flush but never commit; the caller commits once."""
from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import JSON, Boolean, Integer, String, Text, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from app import clock
from app.booking.codes import by_token, new_code, new_manage_token, unused_code
from app.booking.holds import confirm_mode, hold
from app.booking.models import (ACTIVE_STATUSES, MAX_DURATION_MINUTES, Appointment, FairDraw, WaitlistEntry,
                                mailbox_key)
from app.booking.notifications import queue_mail
from app.booking.waitlist import offer_freed_slot, standing_offer
from app.catalog.models import Service
from app.catalog.visits import Visit
from app.extensions import db
from app.offices.models import Entrance, Office
from app.scheduling.calendar import day_bounds_utc, zone
from app.scheduling.slots import (Closed, DayData, Hours, Policy, Slot, draw_running, drawn_service, next_slot,
                                  slot_at)
from app.statistics.tracking import mark_cancelled_by_office
from app.validators import phone_key


class BookingError(Exception):
    pass


class InvalidStart(BookingError):
    """The start is no bookable start at all (422 on `start`)."""


class SlotTaken(BookingError):
    """The start is bookable but full. The caller gives up its transaction and asks for
    a fresh proposal with `fresh_proposal()`, so the booking locks are not held meanwhile."""

    def __init__(self, visit: Visit, policy: Policy, now: datetime, online: bool,
                 exclude_appointment_id: int | None = None):
        super().__init__("slot taken")
        self._args = (visit.key, policy, now, online, exclude_appointment_id)

    def fresh_proposal(self) -> Slot | None:
        """Roll the transaction back (releasing the locks) and propose the next free start."""
        key, policy, now, online, exclude = self._args
        db.session.rollback()
        visit = Visit(tuple((db.session.get(Service, sid), count) for sid, count in key))
        return next_slot(visit, policy, now=now, online=online, exclude_appointment_id=exclude)


class ActiveBookingLimit(BookingError):
    """The cap that answered: `cap` is "email" (max_active_per_email) or "phone"
    (max_active_per_phone)."""

    def __init__(self, limit: int, cap: str = "email"):
        super().__init__(f"{cap} limit {limit}")
        self.limit = limit
        self.cap = cap


class DrawOpen(BookingError):
    """The start's day is being collected for a fair draw: the request is an entry
    (app/booking/draw.py `enter`), not a booking. `closes` is when the draw is held."""

    def __init__(self, service: Service, day, opens: datetime, closes: datetime):
        super().__init__("fair draw collecting")
        self.service, self.day, self.opens, self.closes = service, day, opens, closes


class DrawPending(BookingError):
    """The day's draw has closed but is not held yet (a moment): try again shortly."""


class DeadlinePassed(BookingError):
    """Moving online ends `cancel_deadline_hours` before the start."""


class AlreadyStarted(BookingError):
    """Cancelling online is possible until the start, not after it."""


class NotActive(BookingError):
    pass


def _lock_key(*parts) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(keys: list[tuple], office_id: int) -> None:
    """Serialise bookings that could compete: per office and day, per e-mail.

    PostgreSQL: transaction-scoped advisory locks, taken in sorted order so two movers
    cannot deadlock, in one statement: a target list is evaluated left to right, so the
    wait for each lock runs under the 5-second lock_timeout set before it, and the timeout
    the transaction had is back once the last lock is held. (Nothing is read in that
    statement: its snapshot predates the wait; what is read under the lock is read after.)
    SQLite: a write on the office row takes the database's write lock, which serialises
    every booking transaction.
    """
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        # Other bookings of the day hold these only for moments: worth waiting for in a rush;
        # a table lock (a migration, VACUUM FULL) is not: back to the short default, a 503 soon.
        ordered = sorted({_lock_key(*k) for k in keys})
        locks = ", ".join(f"pg_advisory_xact_lock(:k{i})" for i in range(len(ordered)))
        db.session.execute(text(
            f"SELECT set_config('lock_timeout', '5s', true), {locks}, set_config('lock_timeout', s.old, true) "
            # OFFSET 0: the old value is read before the first set_config (not inlined after it).
            "FROM (SELECT current_setting('lock_timeout') AS old OFFSET 0) AS s"),
            {f"k{i}": k for i, k in enumerate(ordered)})
    else:
        db.session.execute(update(Office).where(Office.id == office_id).values(position=Office.position))


def _day_key(tenant_id: int, office_id: int, start: datetime, tz_name: str) -> tuple:
    return ("day", tenant_id, office_id, start.astimezone(zone(tz_name)).date().isoformat())


def lock_office_days(tenant, office_id: int, starts_at: datetime, ends_at: datetime) -> None:
    """Take the booking locks of every local day from `starts_at` to `ends_at` of an office
    (a block moving and cancelling there must not race a booking)."""
    policy_tz = tenant.timezone
    day, last = starts_at.astimezone(zone(policy_tz)).date(), ends_at.astimezone(zone(policy_tz)).date()
    keys = []
    while day <= last:
        keys.append(("day", tenant.id, office_id, day.isoformat()))
        day += timedelta(days=1)
    _lock(keys, office_id)


def active_bookings(now: datetime, *, email: str = "", phone: str = "") -> int:
    """Active bookings of the mailbox `email` reaches (case and +tag do not count apart), or
    of the line `phone` reaches (separators and +49 vs 0 do not count apart)."""
    key = Appointment.email_key == mailbox_key(email) if email else Appointment.phone_key == phone_key(phone)
    return db.session.scalar(
        select(func.count()).select_from(Appointment).where(
            key, Appointment.status.in_(ACTIVE_STATUSES), Appointment.ends_at > now)
    ) or 0


def check_caps(tenant, email: str, phone: str, now: datetime, *, counts: dict[str, int] | None = None) -> None:
    """Raise ActiveBookingLimit naming the cap when the mailbox or (with the setting) the
    phone line already holds the tenant's maximum of active bookings. Call under the lock.
    `counts`: the active bookings {"email": n, "phone": n} as read under the lock already."""
    limit = int(tenant.settings["max_active_per_email"])
    if email and (counts["email"] if counts else active_bookings(now, email=email)) >= limit:
        raise ActiveBookingLimit(limit, "email")
    phone_limit = int(tenant.settings.get("max_active_per_phone") or 0)
    if phone_limit and phone_key(phone) and (
            counts["phone"] if counts else active_bookings(now, phone=phone)) >= phone_limit:
        raise ActiveBookingLimit(phone_limit, "phone")


# What book() reads under its lock on PostgreSQL, in one round trip: the office and its main
# entrance (for the new appointment and its answer; not a rule, read here to save a trip),
# its active counters with the visit's services that name them, its hours of the weekday, the closures
# and the appointments touching the day (as slot_at's Schedule reads them: a cancelled one
# only while held back from online booking, the offer's freed one not at all), and the active
# bookings of the mailbox and of the phone line (for the caps; NULL keys count none). The
# tenant is named explicitly: this is Core SQL, outside the ORM's automatic scope.
def _json_columns(model, alias: str) -> str:
    """json_build_object of the model's columns whose JSON value is their Python value (no
    dates or times: a column of another kind is left out, and loads on first use)."""
    plain = (Integer, String, Text, Boolean, JSON)
    return "json_build_object(" + ", ".join(
        f"'{c.key}', {alias}.{c.name}" for c in model.__table__.columns if isinstance(c.type, plain)) + ")"


_DAY_UNDER_LOCK = text(f"""
SELECT
 (SELECT json_build_array({_json_columns(Office, "o")},
                          (SELECT {_json_columns(Entrance, "e")} FROM entrances e
                            WHERE e.tenant_id = :tenant AND e.office_id = o.id ORDER BY e.position, e.id LIMIT 1))
    FROM offices o WHERE o.tenant_id = :tenant AND o.id = :office) AS office,
 (SELECT coalesce(json_agg(json_build_array(c.id, sc.service_id) ORDER BY c.position, c.id), '[]')
    FROM counters c LEFT JOIN service_counters sc
      ON sc.tenant_id = c.tenant_id AND sc.counter_id = c.id AND sc.service_id = ANY(:services)
   WHERE c.tenant_id = :tenant AND c.office_id = :office AND c.active) AS counters,
 (SELECT coalesce(json_agg(json_build_array(h.counter_id, h.opens, h.closes, h.valid_from, h.valid_until)
                           ORDER BY h.opens), '[]')
    FROM opening_hours h WHERE h.tenant_id = :tenant AND h.office_id = :office AND h.weekday = :weekday) AS hours,
 (SELECT coalesce(json_agg(json_build_array(x.counter_id, date_part('epoch', x.starts_at),
                                            date_part('epoch', x.ends_at))), '[]')
    FROM closures x WHERE x.tenant_id = :tenant AND x.office_id = :office
     AND x.ends_at > :day_start AND x.starts_at < :day_end) AS closures,
 (SELECT coalesce(json_agg(json_build_array(a.counter_id, date_part('epoch', a.starts_at),
                                            date_part('epoch', a.ends_at)) ORDER BY a.counter_id, a.starts_at), '[]')
    FROM appointments a
   WHERE a.tenant_id = :tenant
     AND a.counter_id IN (SELECT k.id FROM counters k WHERE k.tenant_id = :tenant AND k.office_id = :office)
     AND a.starts_at < :day_end AND a.starts_at > :reach AND a.ends_at > :day_start
     AND (a.status <> 'cancelled' OR a.online_again_at > :held)
     AND a.id IS DISTINCT FROM :exclude) AS busy,
 (SELECT count(*) FROM appointments m WHERE m.tenant_id = :tenant AND m.email_key = :email_key
     AND m.status IN ({", ".join(f"'{s}'" for s in ACTIVE_STATUSES)}) AND m.ends_at > :now) AS email,
 (SELECT count(*) FROM appointments p WHERE p.tenant_id = :tenant AND p.phone_key = :phone_key
     AND p.status IN ({", ".join(f"'{s}'" for s in ACTIVE_STATUSES)}) AND p.ends_at > :now) AS phone
""")


def _known(model, values: dict):
    """The row `values` as read, in the session without another SELECT (an instance the
    session holds already is taken as it is)."""
    obj = model(**values)
    make_transient_to_detached(obj)
    return db.session.merge(obj, load=False)


def day_reader(visit: Visit, policy: Policy, now: datetime, *, online: bool, exclude: int | None = None,
               found: dict | None = None, email: str = "", phone: str = ""):
    """slot_at's `read_day` for book() on PostgreSQL: one statement (above) for the day; the
    active bookings of `email`'s mailbox and `phone`'s line go into `found` ("email",
    "phone"), and the office with its main entrance ("office")."""
    return functools.partial(_read_day, visit, policy.timezone, policy.held_as_of(now, online), now, exclude,
                             {} if found is None else found, email=email, phone=phone)


def _read_day(visit: Visit, tz_name: str, held: datetime | None, now: datetime, exclude: int | None,
              found: dict, day: date, *, email: str, phone: str) -> DayData:
    day_start, day_end = day_bounds_utc(day, zone(tz_name))
    row = db.session.connection().execute(_DAY_UNDER_LOCK, {
        "tenant": visit.tenant_id, "office": visit.office_id, "services": [svc.id for svc in visit.services],
        "weekday": day.weekday(), "day_start": day_start, "day_end": day_end,
        "reach": day_start - timedelta(minutes=MAX_DURATION_MINUTES), "held": held,
        "exclude": exclude, "now": now, "email_key": mailbox_key(email) if email else None,
        "phone_key": phone_key(phone) or None if phone else None,
    }).one()
    found.update(email=row.email, phone=row.phone)
    if row.office is not None:
        office, entrance = row.office
        found["office"] = (_known(Office, office), _known(Entrance, entrance) if entrance else None)
    utc = timezone.utc
    return DayData(
        counters=[(cid, sid) for cid, sid in row.counters],
        rules=[Hours(cid, day.weekday(), time.fromisoformat(opens), time.fromisoformat(closes),
                     date.fromisoformat(since) if since else None, date.fromisoformat(until) if until else None)
               for cid, opens, closes, since, until in row.hours],
        closures=[Closed(cid, datetime.fromtimestamp(s, utc), datetime.fromtimestamp(e, utc))
                  for cid, s, e in row.closures],
        busy=[(cid, s, e) for cid, s, e in row.busy])


def book(tenant, demand: Service | Visit, start: datetime, *, name: str, email: str = "", phone: str = "",
         persons: int = 1, note: str = "", lang: str = "de", source: str = "online",
         now: datetime | None = None, hold_until_confirmed: bool = False,
         offer_token: str | None = None, drawn: bool = False) -> Appointment:
    """Book a visit (or one service for `persons`) at `start` on one free counter that
    serves all of it, for its whole duration. Raises InvalidStart, SlotTaken or
    ActiveBookingLimit. The visit is one appointment: it counts once towards the cap.
    `offer_token` (the waiting list's offer link) may take a start still in its cooling-off.
    Online, a start on a day being collected for a fair draw raises DrawOpen (DrawPending
    until it is held); `drawn` is the draw itself assigning its places."""
    visit = demand if isinstance(demand, Visit) else Visit.single(demand, persons)
    now = now or clock.now()
    policy = Policy.of(tenant)
    online = source == "online"
    if online and not drawn:
        check_no_draw(policy, visit, start, now)
    email = email.strip().lower()
    office_id = visit.office_id
    keys = [_day_key(tenant.id, office_id, start, policy.timezone)]
    if email:
        keys.append(("email", tenant.id, mailbox_key(email)))
    if online and tenant.settings.get("max_active_per_phone") and phone_key(phone):
        keys.append(("phone", tenant.id, phone_key(phone)))
    _lock(keys, office_id)
    # Under the lock: what is free now, with every committed booking seen. The office's
    # static schedule is read once, here: a start that is no bookable start at all is
    # refused under the lock too (the rollback releases it), not checked twice.
    # PostgreSQL: the day (counters, hours, closures, appointments), the caps' counts and
    # the office with its entrance in one statement.
    offer = standing_offer(offer_token, visit.first.id, start, now) if online else None
    exclude = offer.offer_appointment_id if offer is not None else None
    found: dict = {}
    reader = None
    if db.session.get_bind().dialect.name == "postgresql":
        phone_capped = online and bool(tenant.settings.get("max_active_per_phone"))
        reader = day_reader(visit, policy, now, online=online, exclude=exclude, found=found,
                            email=email if online else "", phone=phone if phone_capped else "")
    problem, slot = slot_at(visit, policy, start, now=now, online=online, exclude_appointment_id=exclude,
                            read_day=reader)
    if problem:
        raise InvalidStart(problem)
    if slot is None:
        raise SlotTaken(visit, policy, now, online)
    if online:
        check_caps(tenant, email, phone, now, counts=found or None)
    office, entrance = found.get("office") or office_and_entrance(office_id)
    appt = new_appointment(office, slot.counter_ids[0], slot.start, slot.end, list(visit.items), entrance=entrance,
                           source=source, name=name, email=email, phone=phone, note=note, lang=lang, code=new_code())
    _insert_guarded(appt, visit, policy, now, online)
    if offer is not None:
        offer.status = "booked"  # the offer was taken (counted in the statistics)
    if online and (hold_until_confirmed or confirm_mode(tenant)):
        hold(tenant, appt, now)  # held until the citizen confirms by mail
        return appt
    queue_mail("confirmation", appt)
    return appt


def online_slot(demand: Service | Visit, policy: Policy, start: datetime, *, now: datetime | None = None,
                offer_token: str | None = None) -> tuple[str | None, Slot | None, WaitlistEntry | None]:
    """What a citizen booking online finds at `start`: (why it is no bookable start or None,
    the free slot or None when it is full, the waiting-list offer `offer_token` holds for it).
    The holder of a standing offer may take the start its cancellation freed while the
    cooling-off keeps it from everyone else. The booking page asks this before the form is
    sent; `book()` asks it again under the lock."""
    visit = demand if isinstance(demand, Visit) else Visit.single(demand)
    now = now or clock.now()
    offer = standing_offer(offer_token, visit.first.id, start, now)
    problem, slot = slot_at(visit, policy, start, now=now, online=True,
                            exclude_appointment_id=offer.offer_appointment_id if offer else None)
    return problem, slot, offer


def check_no_draw(policy: Policy, visit: Visit, start: datetime, now: datetime) -> None:
    """Raise DrawOpen while `start`'s day collects entries for a fair draw of the visit's
    service, DrawPending once that window closed and the draw is not held yet."""
    running = draw_running(policy, visit, start, now)
    if running is not None:
        raise DrawOpen(*running)
    svc = drawn_service(policy, visit)
    if svc is not None and db.session.scalar(select(FairDraw.id).where(
            FairDraw.service_id == svc.id, FairDraw.status == "collecting",
            FairDraw.day == start.astimezone(zone(policy.timezone)).date())):
        raise DrawPending()


def _insert_guarded(appt: Appointment, visit: Visit, policy: Policy, now: datetime, online: bool) -> None:
    """Insert or update inside a savepoint; the database's overlap guard answers a lost race.
    A new booking's code is unchecked until here: the unique constraint answers the rare
    clash, and the booking is written again with another code."""
    for attempt in range(5):
        try:
            with db.session.begin_nested():
                db.session.add(appt)
                db.session.flush()
            return
        except IntegrityError as exc:
            problem = str(exc.orig).lower()
            if "overlap" in problem:
                raise SlotTaken(visit, policy, now, online, appt.id) from exc
            if "code" not in problem or attempt == 4:
                raise
            appt.code = new_code()


def office_and_entrance(office_id: int) -> tuple[Office, Entrance | None]:
    """The office and its main entrance (the first), where a booking's citizen is sent: one statement."""
    row = db.session.execute(select(Office, Entrance).outerjoin(Entrance, Entrance.office_id == Office.id)
                             .where(Office.id == office_id).order_by(Entrance.position, Entrance.id).limit(1)).first()
    return (row[0], row[1]) if row else (db.session.get(Office, office_id), None)


def new_appointment(office: Office, counter_id: int, start: datetime, end: datetime, items: list, *, source: str,
                    name: str, email: str = "", phone: str = "", note: str = "", lang: str = "de",
                    overbook_reason: str = "", entrance: Entrance | None = None, code: str | None = None) -> Appointment:
    """The row of a booking, online or by a clerk, for the visit `items` [(Service, count)]:
    a fresh code (checked here unless given; `_insert_guarded` answers a given one's clash)
    and manage token, at `entrance` (default: the office's main entrance). Not added to the session."""
    entrance = entrance or office.main_entrance
    appt = Appointment(
        code=code or unused_code(Appointment.code), manage_token=new_manage_token(), office_id=office.id, counter_id=counter_id,
        entrance_id=entrance.id if entrance else None, starts_at=start, ends_at=end,
        status="booked", source=source, name=name.strip(), email=email.strip().lower(), phone=phone.strip(),
        note=note.strip(), lang=lang, overbooked=bool(overbook_reason), overbook_reason=overbook_reason,
    )
    appt.office, appt.entrance = office, entrance  # known: nothing to load for the answer
    appt.set_services(items)
    return appt


def find_by_token(token: str) -> Appointment | None:
    return by_token(Appointment.manage_token, token)


def move_deadline(tenant, appt: Appointment) -> datetime:
    """Until when the citizen may move the appointment online (cancelling: until the start)."""
    return deadline_for(tenant, appt.starts_at)


def deadline_for(tenant, starts_at: datetime) -> datetime:
    """Until when a citizen may move an appointment at `starts_at` online."""
    return starts_at - timedelta(hours=int(tenant.settings["cancel_deadline_hours"]))


def may_move_online(tenant, appt: Appointment, now: datetime) -> bool:
    return appt.status == "booked" and now <= move_deadline(tenant, appt)


def may_cancel_online(appt: Appointment, now: datetime) -> bool:
    return appt.status == "booked" and now < appt.starts_at


def _check_deadline(tenant, appt: Appointment, now: datetime) -> None:
    if now > move_deadline(tenant, appt):
        raise DeadlinePassed(int(tenant.settings["cancel_deadline_hours"]))


def cancel(tenant, appt: Appointment, *, now: datetime | None = None, by_citizen: bool = True,
           event: str = "cancellation", reason: str = "") -> bool:
    """Cancel; the slot is free again at once. Cancelling twice changes nothing (False).
    `reason` goes into the mail (the office's word when it cancels)."""
    now = now or clock.now()
    if appt.status == "cancelled":
        return False
    if appt.status not in ACTIVE_STATUSES:
        raise NotActive(appt.status)
    if by_citizen:
        if now >= appt.starts_at:
            raise AlreadyStarted()
    else:
        mark_cancelled_by_office(appt)
    appt.status = "cancelled"
    appt.cancelled_at = now
    cooling_off = int(tenant.settings.get("release_cancelled_after_minutes") or 0)
    if by_citizen and cooling_off:
        # Freed by the citizen: the waiting list first, everyone online after the cooling-off.
        appt.online_again_at = now + timedelta(minutes=cooling_off)
    appt.sequence += 1
    db.session.flush()
    queue_mail(event, appt, reason=reason)
    offer_freed_slot(appt)
    return True


def move(tenant, appt: Appointment, start: datetime, *, now: datetime | None = None,
         by_citizen: bool = True) -> Appointment:
    """Move the whole visit to `start` atomically: one UPDATE holds the new time and frees the old one."""
    now = now or clock.now()
    if appt.status != "booked":
        raise NotActive(appt.status)
    if by_citizen:
        _check_deadline(tenant, appt, now)
    visit = Visit.of_appointment(appt)
    policy = Policy.of(tenant)
    online = by_citizen
    problem, _ = slot_at(visit, policy, start, now=now, online=online, exclude_appointment_id=appt.id,
                         check_only=True)
    if problem:
        raise InvalidStart(problem)
    if online and draw_running(policy, visit, start, now) is not None:
        # Booking another day first and moving at the release would get round the draw.
        raise InvalidStart("is on a day whose places are being drawn by lot; it cannot be moved to now")
    _lock([_day_key(tenant.id, appt.office_id, start, policy.timezone),
           _day_key(tenant.id, appt.office_id, appt.starts_at, policy.timezone)], appt.office_id)
    _, slot = slot_at(visit, policy, start, now=now, online=online, exclude_appointment_id=appt.id)
    if slot is None:
        raise SlotTaken(visit, policy, now, online, appt.id)
    appt.counter_id = slot.counter_ids[0]
    appt.starts_at = slot.start
    appt.ends_at = slot.end
    appt.sequence += 1
    appt.reminder_sent_at = None
    if appt.reconfirm_sent_at is not None and appt.reconfirmed_at is None:
        appt.reconfirmed_at = now  # moving it answers "Kommen Sie?" as plainly as the button
    _insert_guarded(appt, visit, policy, now, online)
    queue_mail("moved", appt)
    return appt


def resend_link(email: str, code: str) -> None:
    """Mail the manage link again to the citizen of the coming appointment with this booking
    code and e-mail address. Says nothing back: whether such a booking exists is not told."""
    code = (code or "").strip().upper()
    if not email or not code or len(code) > 16:
        return
    appt = db.session.scalar(select(Appointment).where(
        Appointment.code == code, Appointment.status.in_(ACTIVE_STATUSES),
        func.lower(Appointment.email) == email.strip().lower(), Appointment.starts_at > clock.now()))
    if appt is not None:
        queue_mail("link_resend", appt)
