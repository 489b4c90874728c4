"""The fair draw (issue 16, tenant settings `fair_draw_services` and `fair_draw_minutes`):
scripts take a newly released day within seconds, so for the services named, requests for
that day during its first minutes are collected and the places are drawn by lot.

Rules (README, "Faire Verlosung / fair draw"):
- The window of a day is [its release, release + `fair_draw_minutes`): the release is the
  moment the day enters the booking horizon (`release_time`, or midnight without one).
- An online request in the window for a start on that day of a drawn service is an entry
  (one per mailbox per draw; the per-e-mail and per-phone caps apply as to a booking), mailed
  with the time of the draw. Staff bookings are not affected.
- At the window's end the draw is held once (`hold_due_draws`, from the scheduled work): a
  fresh random seed (`secrets`) is recorded; each entry's lot is SHA-256 of
  "<seed>:<entry id>" in hex, and the entries are taken in ascending lot order. In that order
  each gets the start it asked for if still free, else the free start of that day nearest to
  it, booked with the normal booking function (every guarantee holds). Who gets nothing is
  put on the service's waiting list. Each entry gets exactly one mail.
- Afterwards the day's remaining starts are first-come as always.
Like every business function here, these flush and never commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.audit.models import record as audit_record
from app.booking import waitlist
from app.booking.codes import by_token, new_manage_token, unused_code
from app.booking.models import Appointment, DrawEntry, FairDraw, WaitlistEntry, mailbox_key
from app.booking.notifications import queue_draw_mail, waitlist_leave_url
from app.booking.service import (ActiveBookingLimit, BookingError, DrawOpen, InvalidStart, SlotTaken, _lock, book,
                                  check_caps)
from app.catalog.models import Service
from app.catalog.visits import Visit
from app.extensions import db
from app.scheduling.slots import Policy, compute_slots, slot_at
from app.transaction import claim
from app.validators import phone_key

# A place lost to a parallel staff booking while assigning: try the next nearest this often.
ASSIGN_ATTEMPTS = 5


class AlreadyEntered(BookingError):
    """This mailbox (or, with the per-phone cap, this phone line) is in the draw already."""

    def __init__(self, cap: str = "email"):
        super().__init__(f"already entered ({cap})")
        self.cap = cap


class DrawClosed(BookingError):
    """The draw was held meanwhile: the request came too late to enter."""


# --- the lot -----------------------------------------------------------------------------
def lot(seed: str, entry_id: int) -> str:
    """An entry's lot: SHA-256 of "<seed>:<entry id>", hex. Anyone can recompute it."""
    return hashlib.sha256(f"{seed}:{entry_id}".encode()).hexdigest()


def drawn_order(seed: str, entry_ids: list[int]) -> list[int]:
    """The entries in the order they are served: ascending lot (id only breaks a tie)."""
    return sorted(entry_ids, key=lambda entry_id: (lot(seed, entry_id), entry_id))


def verify(draw: FairDraw) -> bool:
    """Re-run the lot from the recorded seed and input: does it give the recorded order?"""
    if draw.status != "drawn":
        return False
    return drawn_order(draw.seed, list(draw.entry_ids)) == [row["entry"] for row in draw.ranking]


# --- entering ----------------------------------------------------------------------------
def enter(tenant, visit: Visit, start: datetime, drawing: DrawOpen, *, name: str, email: str, phone: str = "",
          lang: str = "de", now: datetime | None = None) -> DrawEntry:
    """Enter the request for `start` into the draw that `book()` answered with `drawing`.
    Raises InvalidStart (no bookable start at all), ActiveBookingLimit, AlreadyEntered or
    DrawClosed. Mails the entry with the time of the draw."""
    service, day, opens, closes = drawing.service, drawing.day, drawing.opens, drawing.closes
    now = now or clock.now()
    policy = Policy.of(tenant)
    email = email.strip().lower()
    keys = [("draw", tenant.id, service.id, day.isoformat()), ("email", tenant.id, mailbox_key(email))]
    with_phone = bool(tenant.settings.get("max_active_per_phone")) and bool(phone_key(phone))
    if with_phone:
        keys.append(("phone", tenant.id, phone_key(phone)))
    _lock(keys, visit.office_id)
    problem, _ = slot_at(visit, policy, start, now=now, online=True, check_only=True)
    if problem:
        raise InvalidStart(problem)
    check_caps(tenant, email, phone, now)
    draw = db.session.scalar(select(FairDraw).where(FairDraw.service_id == service.id, FairDraw.day == day)
                             .with_for_update())
    if draw is None:
        draw = FairDraw(service_id=service.id, day=day, opens_at=opens, closes_at=closes, status="collecting")
        db.session.add(draw)
        db.session.flush()
    if draw.status != "collecting":
        raise DrawClosed()
    entries = select(DrawEntry.id).where(DrawEntry.draw_id == draw.id)
    if db.session.scalar(entries.where(DrawEntry.email_key == mailbox_key(email))):
        raise AlreadyEntered("email")
    if with_phone and db.session.scalar(entries.where(DrawEntry.phone_key == phone_key(phone))):
        raise AlreadyEntered("phone")
    entry = DrawEntry(draw_id=draw.id, draw=draw, reference=unused_code(DrawEntry.reference), token=new_manage_token(),
                      name=name.strip(), email=email, phone=phone.strip(), lang=lang if lang in ("de", "en") else "de",
                      starts_at=start, items=[[svc.id, count] for svc, count in visit.items], created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as exc:  # the database's word on one entry per mailbox
        raise AlreadyEntered("email") from exc
    queue_draw_mail("draw_entered", entry)
    return entry


def entry_by_token(token: str) -> DrawEntry | None:
    return by_token(DrawEntry.token, token)


# --- holding the draw --------------------------------------------------------------------
def due_draws(now: datetime) -> list[int]:
    """The current tenant's draws whose window has closed and that are not held yet."""
    return list(db.session.scalars(select(FairDraw.id).where(FairDraw.status == "collecting",
                                                             FairDraw.closes_at <= now).order_by(FairDraw.id)))


def hold(tenant, draw_id: int, now: datetime | None = None) -> FairDraw | None:
    """Hold one draw, exactly once even with several workers: the draw's lock (the one an
    entry takes) and every lock its bookings take are taken at once, in the one sorted order
    (no deadlock with an entry or a citizen's booking under the same address); then its
    row is claimed and re-checked. None when there was nothing to do."""
    now = now or clock.now()
    draw = db.session.scalar(select(FairDraw).where(FairDraw.id == draw_id, FairDraw.status == "collecting",
                                                    FairDraw.closes_at <= now))
    if draw is None:
        return None
    service = draw.service
    keys = [("draw", tenant.id, service.id, draw.day.isoformat()),
            ("day", tenant.id, service.office_id, draw.day.isoformat())]
    for email_key, line in db.session.execute(select(DrawEntry.email_key, DrawEntry.phone_key)
                                              .where(DrawEntry.draw_id == draw.id)):
        keys.append(("email", tenant.id, email_key))
        if tenant.settings.get("max_active_per_phone") and line:
            keys.append(("phone", tenant.id, line))
    _lock(keys, service.office_id)
    draw = claim(select(FairDraw).where(FairDraw.id == draw_id, FairDraw.status == "collecting"))
    if draw is None:
        return None  # held meanwhile by another worker
    entries = {e.id: e for e in db.session.scalars(select(DrawEntry).where(DrawEntry.draw_id == draw.id))}
    policy = Policy.of(tenant)
    draw.seed = secrets.token_hex(16)
    draw.entry_ids = sorted(entries)
    ranking = []
    for position, entry_id in enumerate(drawn_order(draw.seed, draw.entry_ids), start=1):
        entry = entries[entry_id]
        entry.position = position
        appt = _assign(tenant, policy, draw.day, entry, now)
        if appt is not None:
            entry.result, entry.appointment_id = "booked", appt.id
        else:
            entry.result = "waitlist"
            place = _waitlist_place(service, entry, now)
            queue_draw_mail("draw_lost", entry, leave_url=waitlist_leave_url(place))
        ranking.append({"entry": entry_id, "reference": entry.reference, "result": entry.result,
                        "code": appt.code if appt is not None else None})
    draw.ranking = ranking
    draw.status, draw.drawn_at = "drawn", now
    booked = sum(1 for row in ranking if row["result"] == "booked")
    audit_record("fair_draw_held", "fair_draw", draw.id, actor="system",
                 after={"seed": draw.seed, "entries": len(ranking), "booked": booked,
                        "waitlist": len(ranking) - booked})
    db.session.flush()
    return draw


def _assign(tenant, policy: Policy, day: date, entry: DrawEntry, now: datetime) -> Appointment | None:
    """Book the entry's start, else the free start of the day nearest to it (each booking
    through the normal booking function; its mail is the entry's one mail)."""
    services = [db.session.get(Service, sid) for sid, _ in entry.items]
    if any(svc is None for svc in services):
        return None
    visit = Visit(tuple((svc, count) for svc, (_, count) in zip(services, entry.items)))
    tried: set[datetime] = set()
    start = entry.starts_at
    for _ in range(ASSIGN_ATTEMPTS):
        tried.add(start)
        try:
            with db.session.begin_nested():
                return book(tenant, visit, start, name=entry.name, email=entry.email, phone=entry.phone,
                            lang=entry.lang, source="online", now=now, drawn=True)
        except ActiveBookingLimit:
            return None  # the mailbox booked elsewhere meanwhile: the cap holds here too
        except (SlotTaken, InvalidStart):
            pass
        free = [s.start for s in compute_slots(visit, policy, day, day, now=now) if s.start not in tried]
        if not free:
            return None
        start = min(free, key=lambda s: (abs((s - entry.starts_at).total_seconds()), s))
    return None


def _waitlist_place(service: Service, entry: DrawEntry, now: datetime) -> WaitlistEntry:
    """The entry's place on the service's waiting list (an open place stays as it was)."""
    held = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.service_id == service.id,
                                                         WaitlistEntry.email == entry.email,
                                                         WaitlistEntry.status.in_(waitlist.OPEN_STATUSES)))
    if held is not None:
        return held
    return waitlist.join(service, name=entry.name, email=entry.email, lang=entry.lang, now=now, notify=False)


def forget_entries(before: date) -> int:
    """Retention: the entries of draws held for days before `before` go; the draw row keeps
    its seed, input and order (entry ids and references, no personal data)."""
    ids = list(db.session.scalars(select(FairDraw.id).where(FairDraw.status == "drawn", FairDraw.day < before)))
    if not ids:
        return 0
    return db.session.execute(delete(DrawEntry).where(DrawEntry.draw_id.in_(ids))).rowcount or 0


# --- for the back office -----------------------------------------------------------------
def recent_draws(limit: int = 60) -> list[tuple[FairDraw, int]]:
    """The current tenant's latest draws, newest day first, each with its number of entries
    (held draws count their recorded input: it stays when retention deletes the entries)."""
    draws = list(db.session.scalars(select(FairDraw).order_by(FairDraw.day.desc(), FairDraw.id.desc()).limit(limit)))
    counts = dict(db.session.execute(select(DrawEntry.draw_id, func.count()).where(
        DrawEntry.draw_id.in_([d.id for d in draws])).group_by(DrawEntry.draw_id)).all()) if draws else {}
    return [(d, len(d.entry_ids) if d.status == "drawn" else counts.get(d.id, 0)) for d in draws]


def ranking_with_lots(fair_draw: FairDraw) -> list[dict]:
    """The recorded order, each row with its position and its lot recomputed from the seed."""
    return [{**row, "position": i, "lot": lot(fair_draw.seed, row["entry"])}
            for i, row in enumerate(fair_draw.ranking, start=1)]
