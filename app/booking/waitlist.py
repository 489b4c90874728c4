"""The waiting list: citizens who found the calendar full are offered freed slots that
match their preferences (weekdays, morning/afternoon, a date range), in the order they
joined. Like every business function here it flushes, never commits."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select

from app import clock
from app.booking.codes import by_token, new_manage_token
from app.booking.models import Appointment, WaitlistEntry
from app.booking.notifications import queue_waitlist_joined, queue_waitlist_offer
from app.catalog.models import Service
from app.extensions import db
from app.scheduling.calendar import zone
from app.scheduling.slots import Policy, slot_at
from app.tenancy.resolve import tenant_info
from app.transaction import claim

OPEN_STATUSES = ("waiting", "offered")
# An offer stands until the slot, but at most this long; then the entry counts as served.
OFFER_VALID = timedelta(days=2)
DAYPARTS = ("morning", "afternoon")
NOON = time(12, 0)  # a start before it is "morning", from it on "afternoon"


def join(service: Service, *, name: str, email: str, lang: str = "de",
         now: datetime | None = None, weekdays: str = "", daypart: str = "",
         date_from: date | None = None, date_until: date | None = None, notify: bool = True) -> WaitlistEntry:
    """Put `email` on the waiting list of `service`; joining again keeps the place held
    and takes the new preferences. `notify=False`: the caller's own mail tells of it."""
    now = now or clock.now()
    email = email.strip().lower()
    entry = db.session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.service_id == service.id, WaitlistEntry.email == email)
    )
    if entry is None:
        entry = WaitlistEntry(service_id=service.id, email=email, token=new_manage_token(), created_at=now)
        db.session.add(entry)
    elif entry.status not in OPEN_STATUSES:
        # Served or withdrawn before: back in the queue, at its end.
        entry.status, entry.created_at, entry.offered_at, entry.expires_at = "waiting", now, None, None
    entry.name = name.strip()
    entry.lang = lang if lang in ("de", "en") else "de"
    entry.weekdays = "".join(sorted(set(d for d in weekdays if d in "0123456")))
    entry.daypart = daypart if daypart in DAYPARTS else ""
    entry.date_from, entry.date_until = date_from, date_until
    db.session.flush()
    if notify:
        queue_waitlist_joined(entry)  # with the leave link (mail event 'waitlist_joined')
    return entry


def matching(local_start: datetime):
    """SQL condition: the entry's preferences accept a start at `local_start` (local time)."""
    day = local_start.date()
    part = "morning" if local_start.time() < NOON else "afternoon"
    return and_(
        or_(WaitlistEntry.weekdays == "", WaitlistEntry.weekdays.contains(str(day.weekday()))),
        WaitlistEntry.daypart.in_(("", part)),
        or_(WaitlistEntry.date_from.is_(None), WaitlistEntry.date_from <= day),
        or_(WaitlistEntry.date_until.is_(None), WaitlistEntry.date_until >= day),
    )


def entry_by_token(token: str) -> WaitlistEntry | None:
    """The entry the secret link of its mail names (None for no or an overlong token)."""
    return by_token(WaitlistEntry.token, token)


def withdraw(entry: WaitlistEntry) -> None:
    entry.status = "withdrawn"
    db.session.flush()


def offer_freed_slot(appointment: Appointment, *, now: datetime | None = None) -> WaitlistEntry | None:
    """A booking was cancelled: if its slot can be booked online again, mail the first
    waiting citizen of its service a link that books it (mail event 'waitlist_offer').

    Returns the entry offered to, or None when nobody waits or the slot is not
    bookable online (too soon, in the past, closed, or held back for staff)."""
    now = now or clock.now()
    tenant = tenant_info(appointment.tenant_id)
    service = appointment.service
    # Excluding the freed appointment itself: during a cooling-off it still holds its start
    # back from everyone online — but not from the waiting list, which it is offered to first.
    problem, slot = slot_at(service, Policy.of(tenant), appointment.starts_at, now=now, online=True,
                            exclude_appointment_id=appointment.id)
    if problem or slot is None:
        return None
    # Two cancellations at once offer to two different citizens, not twice to one.
    local_start = appointment.starts_at.astimezone(zone(tenant.timezone))
    entry = claim(select(WaitlistEntry)
                  .where(WaitlistEntry.service_id == appointment.service_id, WaitlistEntry.status == "waiting",
                         matching(local_start))
                  .order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1))
    if entry is None:
        return None
    entry.status = "offered"
    entry.offered_at = now
    entry.expires_at = min(appointment.starts_at, now + OFFER_VALID)
    entry.offer_appointment_id = appointment.id
    db.session.flush()
    start = appointment.starts_at.astimezone(zone(tenant.timezone)).isoformat()
    queue_waitlist_offer(entry, appointment, start)
    return entry


def standing_offer(token: str | None, service_id: int, start: datetime,
                   now: datetime | None = None) -> WaitlistEntry | None:
    """The open offer that `token` (from the offer mail's link) holds for `start`, if any.
    Its holder may book that start while a cooling-off keeps it from everyone else."""
    if not token:
        return None
    now = now or clock.now()
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token))
    if entry is None or entry.status != "offered" or entry.service_id != service_id or entry.expires_at < now:
        return None
    freed = db.session.get(Appointment, entry.offer_appointment_id) if entry.offer_appointment_id else None
    if freed is None or freed.starts_at != start:
        return None
    return entry


def pass_on_lapsed_offers(now: datetime | None = None) -> int:
    """Offers nobody took in time count as served; a slot still free goes to the next in line."""
    now = now or clock.now()
    lapsed = list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.status == "offered", WaitlistEntry.expires_at < now)
        .order_by(WaitlistEntry.offered_at, WaitlistEntry.id)
    ))
    for entry in lapsed:
        entry.status = "expired"
        db.session.flush()
        freed = db.session.get(Appointment, entry.offer_appointment_id) if entry.offer_appointment_id else None
        if freed is not None and freed.status == "cancelled":
            offer_freed_slot(freed, now=now)
    return len(lapsed)
