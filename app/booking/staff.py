"""What clerks do with appointments: status at the counter, phone and emergency
bookings (the only path past capacity), blocking time. Plain functions: they flush,
the caller commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.booking import service as booking
from app.booking.models import ACTIVE_STATUSES, Appointment, AppointmentService
from app.booking.notifications import queue_mail
from app.catalog.models import Service
from app.catalog.visits import Visit
from app.extensions import db
from app.i18n import N_
from app.offices.models import Closure, Counter, Office
from app.scheduling.calendar import day_bounds_utc, today_in, zone
from app.scheduling.slots import Policy, Slot, bookable_window, compute_slots, next_slot, slot_at
from app.tenancy.resolve import tenant_info
from app.validators import is_email

# Which status a clerk may set from which.
TRANSITIONS = {
    "booked": ("checked_in", "completed", "no_show"),
    "checked_in": ("completed", "no_show", "booked"),
    "no_show": ("booked", "checked_in"),
    "completed": ("checked_in",),
}
# The one German word for each status, for every back-office page (English in the catalogue).
STATUS_LABELS = {"booked": N_("gebucht"), "checked_in": N_("eingecheckt"), "completed": N_("erledigt"),
                 "no_show": N_("nicht erschienen"), "cancelled": N_("abgesagt")}
# The button that sets a status.
ACTION_LABELS = {"checked_in": N_("Einchecken"), "completed": N_("Erledigt"), "no_show": N_("Nicht erschienen"),
                 "booked": N_("Zurück auf gebucht")}
SOURCE_LABELS = {"online": N_("online"), "phone": N_("Telefon"), "emergency": N_("Notfall")}


class StaffError(ValueError):
    """A clerk's request that cannot be done; the message is for the page."""


def snapshot(appt: Appointment) -> dict:
    """What the audit log keeps of an appointment: no personal data, which retention
    deletes from the appointment but an audit copy would keep."""
    return {"code": appt.code, "service_id": appt.service_id, "counter_id": appt.counter_id,
            "starts_at": appt.starts_at.isoformat(), "status": appt.status, "source": appt.source,
            "overbooked": appt.overbooked}


def day_appointments(tenant, office: Office, day) -> list[Appointment]:
    """The office's appointments starting on `day` (the tenant's local day), every status,
    by start and counter, their services loaded: the day view and its print."""
    start, end = day_bounds_utc(day, zone(tenant.timezone))
    return list(db.session.scalars(
        select(Appointment).where(Appointment.office_id == office.id, Appointment.starts_at >= start,
                                  Appointment.starts_at < end)
        .options(selectinload(Appointment.service),
                 selectinload(Appointment.visit_items).selectinload(AppointmentService.service))
        .order_by(Appointment.starts_at, Appointment.counter_id, Appointment.id)))


def status_refusal(appt: Appointment, status: str, now: datetime) -> str | None:
    """Why `status` cannot be set now (None: it can). Guarded by time: check-in and
    no-show only on the appointment's own day; no-show and "completed" not before its
    start unless the citizen is checked in (served early, or called and gone).
    The day view, the workstation and the queue all ask this one rule."""
    if status not in TRANSITIONS.get(appt.status, ()):
        return (f"Ein Termin mit Status „{STATUS_LABELS.get(appt.status, appt.status)}“ kann nicht "
                f"auf „{STATUS_LABELS.get(status, status)}“ gesetzt werden.")
    tz = zone(tenant_info(appt.tenant_id).timezone)
    same_day = appt.starts_at.astimezone(tz).date() == now.astimezone(tz).date()
    if status in ("checked_in", "no_show") and not same_day:
        return "Einchecken und „nicht erschienen“ gehen nur am Tag des Termins."
    present = appt.status == "checked_in" and same_day
    if status == "no_show" and now < appt.starts_at and not present:
        return "„Nicht erschienen“ geht erst, wenn der Termin begonnen hat."
    if status == "completed" and now < appt.starts_at and not present:
        return "„Erledigt“ geht nicht für einen Termin, der noch nicht begonnen hat."
    return None


def allowed_transitions(appt: Appointment, now: datetime) -> list[str]:
    """The statuses a clerk can set now: the buttons the day view shows."""
    return [s for s in TRANSITIONS.get(appt.status, ()) if status_refusal(appt, s, now) is None]


def set_status(appt: Appointment, status: str, now: datetime | None = None) -> None:
    refusal = status_refusal(appt, status, now or clock.now())
    if refusal:
        raise StaffError(refusal)
    appt.status = status
    db.session.flush()


MAX_REASON = 300  # the office's reason stands in the citizen's mail


def cancel_by_office(tenant, appt: Appointment, reason: str) -> bool:
    """A clerk cancels one appointment; the citizen is told `reason` and offered a new one.
    False: it was cancelled already."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise StaffError(f"Bitte einen Grund mit höchstens {MAX_REASON} Zeichen angeben; er steht in der Nachricht.")
    return booking.cancel(tenant, appt, by_citizen=False, event="office_cancelled", reason=reason)


def move_proposals(tenant, appt: Appointment, *, now: datetime | None = None, count: int = 12) -> list[Slot]:
    """Free starts a clerk can move `appt` to, earliest first (its own time counts as free,
    held-back capacity too, no lead time): at most `count`, within the next two weeks that have any."""
    now = now or clock.now()
    policy = Policy.of(tenant)
    visit = Visit.of_appointment(appt)
    first, last, _ = bookable_window(policy, now, online=False)
    day = first
    while day <= last:
        chunk_end = min(day + timedelta(days=13), last)
        found = compute_slots(visit, policy, day, chunk_end, now=now, online=False,
                              exclude_appointment_id=appt.id, limit=count)
        found = [s for s in found if s.start != appt.starts_at]
        if found:
            return found
        day = chunk_end + timedelta(days=1)
    return []


def move_for_citizen(tenant, appt: Appointment, start: datetime, *, now: datetime | None = None) -> Appointment:
    """A clerk moves a booked appointment (no moving deadline); the citizen gets the moved-appointment mail."""
    try:
        return booking.move(tenant, appt, start, now=now, by_citizen=False)
    except booking.NotActive as exc:
        raise StaffError("Nur gebuchte Termine können verschoben werden.") from exc
    except (booking.InvalidStart, booking.SlotTaken) as exc:
        raise StaffError("Diese Zeit ist nicht mehr frei; bitte eine andere wählen.") from exc


def resend_confirmation(appt: Appointment, *, now: datetime | None = None) -> None:
    """Send the confirmation mail again (lost, in the spam folder), for a booked appointment to come."""
    now = now or clock.now()
    if appt.status != "booked" or appt.ends_at <= now:
        raise StaffError("Eine Bestätigung gibt es nur für gebuchte Termine, die noch bevorstehen.")
    if not appt.email:
        raise StaffError("Für diesen Termin ist keine E-Mail-Adresse hinterlegt; bitte telefonisch bestätigen.")
    queue_mail("confirmation", appt)


def proposal(tenant, demand: Service | Visit, *, now: datetime | None = None) -> Slot | None:
    """The earliest free start for a clerk: held-back capacity counts, no lead time."""
    return next_slot(demand, Policy.of(tenant), now=now or clock.now(), online=False)


def book_for_caller(tenant, demand: Service | Visit, start: datetime, *, name: str, email: str = "",
                    phone: str = "", persons: int = 1, note: str = "", source: str = "phone",
                    now: datetime | None = None) -> Appointment:
    """A phone (or emergency) booking within capacity, held-back share included: one
    service for `persons`, or a visit of several services with their counts."""
    if source not in ("phone", "emergency"):
        raise StaffError("Unbekannte Buchungsart.")
    visit = demand if isinstance(demand, Visit) else Visit.single(demand, persons)
    for svc, count in visit.items:
        _check_person(name, count, svc, email)
    return booking.book(tenant, visit, start, name=name, email=email, phone=phone, note=note,
                        source=source, now=now)


def overbook(tenant, service: Service, start: datetime, counter: Counter, *, reason: str, name: str,
             email: str = "", phone: str = "", persons: int = 1, note: str = "",
             now: datetime | None = None) -> Appointment:
    """An emergency appointment on `counter` even though it is taken: the one path past
    capacity. Marked `overbooked` with its reason; the overlap guard lets it through."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise StaffError("Für eine Überbuchung ist ein Grund nötig.")
    if len(reason) > MAX_REASON:
        raise StaffError(f"Der Grund darf höchstens {MAX_REASON} Zeichen lang sein.")
    _check_person(name, persons, service, email)
    if service.office_id is None or counter.office_id != service.office_id:
        raise StaffError("Dieser Schalter gehört nicht zum Büro der Dienstleistung.")
    if start < now - timedelta(minutes=5):
        raise StaffError("Der Termin liegt in der Vergangenheit.")
    office = db.session.scalar(select(Office).where(Office.id == service.office_id))
    end = start + timedelta(minutes=service.minutes_for(persons))
    appt = booking.new_appointment(office, counter.id, start, end, [(service, persons)], source="emergency",
                                   name=name, email=email, phone=phone, note=note, overbook_reason=reason)
    db.session.add(appt)
    db.session.flush()
    queue_mail("confirmation", appt)
    return appt


def _check_person(name: str, persons: int, service: Service, email: str = "") -> None:
    if email.strip() and not is_email(email.strip()):
        raise StaffError("Die E-Mail-Adresse ist ungültig; lassen Sie das Feld leer, wenn es keine gibt.")
    if not (name or "").strip():
        raise StaffError("Bitte den Namen der Bürgerin oder des Bürgers angeben.")
    if len(name) > 200:
        raise StaffError("Der Name darf höchstens 200 Zeichen lang sein.")
    if not service.takes_persons(persons):
        raise StaffError(f"Für diese Dienstleistung sind 1 bis {service.persons_max} Personen möglich.")


# --- blocking time -------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    office: Office
    counter: Counter | None
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    reason: str


MAX_BLOCK_DAYS = 366


def make_block(tenant, office: Office, counter: Counter | None, day, opens, closes, reason: str,
               until=None) -> Block:
    """Validate a block from `day` to `until` (inclusive; None: the one day), from `opens`
    on the first day to `closes` on the last (local times; None: whole days). Days gone by
    cannot be blocked."""
    tz = zone(tenant.timezone)
    until = until or day
    if counter is not None and counter.office_id != office.id:
        raise StaffError("Dieser Schalter gehört nicht zu diesem Büro.")
    if day < today_in(tz, clock.now()):
        raise StaffError("Vergangene Tage können nicht gesperrt werden.")
    reason = (reason or "").strip()
    if not reason:
        raise StaffError("Bitte einen Grund angeben; er steht in der Nachricht an die Betroffenen.")
    if len(reason) > MAX_REASON:
        raise StaffError(f"Der Grund darf höchstens {MAX_REASON} Zeichen lang sein.")
    if until < day:
        raise StaffError("Der letzte Tag darf nicht vor dem ersten liegen.")
    if (until - day).days >= MAX_BLOCK_DAYS:
        raise StaffError(f"Höchstens {MAX_BLOCK_DAYS} Tage auf einmal sperren.")
    if opens is None or closes is None:
        start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    else:
        start = datetime.combine(day, opens, tzinfo=tz)
        end = datetime.combine(until, closes, tzinfo=tz)
        if start >= end:
            raise StaffError("Das Ende muss nach dem Beginn liegen.")
    return Block(office, counter, start.astimezone(zone("UTC")), end.astimezone(zone("UTC")), reason)


def affected(block: Block) -> list[Appointment]:
    """Active appointments the block hits, earliest first."""
    q = select(Appointment).where(
        Appointment.office_id == block.office.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < block.ends_at, Appointment.ends_at > block.starts_at,
    ).order_by(Appointment.starts_at, Appointment.id)
    if block.counter is not None:
        q = q.where(Appointment.counter_id == block.counter.id)
    return list(db.session.scalars(q))


def placement(tenant, block: Block, *, now: datetime | None = None) -> list[tuple[Appointment, Counter | None]]:
    """What a block does to each appointment it hits: (appointment, the counter it moves to)
    or (appointment, None) when it is cancelled. Only a one-counter block moves anyone: to
    another counter of the same office that offers every service of the visit and is free
    for the same time (earlier moves of the same block count). Reads only."""
    now = now or clock.now()
    policy = Policy.of(tenant)
    taken: list[tuple[int, datetime, datetime]] = []
    plan = []
    for appt in affected(block):
        target = None
        if block.counter is not None and appt.status == "booked":
            _, slot = slot_at(Visit.of_appointment(appt), policy, appt.starts_at, now=now, online=False,
                              exclude_appointment_id=appt.id)
            for cid in slot.counter_ids if slot else ():
                if cid == block.counter.id or any(c == cid and s < appt.ends_at and appt.starts_at < e
                                                  for c, s, e in taken):
                    continue
                target = db.session.get(Counter, cid)
                taken.append((cid, appt.starts_at, appt.ends_at))
                break
        plan.append((appt, target))
    return plan


def apply_block(tenant, block: Block, *, now: datetime | None = None
                ) -> tuple[Closure, list[Appointment], list[Appointment]]:
    """Close the time (online slots lose it at once); move who can be placed at another
    counter at the same time (same office, no mail: time and place stay), cancel the rest.
    Each cancelled citizen with an e-mail address is told why and offered the next free time.
    Returns (closure, moved, cancelled)."""
    now = now or clock.now()
    booking.lock_office_days(tenant, block.office.id, block.starts_at, block.ends_at)
    plan = placement(tenant, block, now=now)  # under the lock: what is free now
    closure = Closure(office_id=block.office.id, counter_id=block.counter.id if block.counter else None,
                      starts_at=block.starts_at, ends_at=block.ends_at, reason=block.reason)
    db.session.add(closure)
    db.session.flush()
    moved, cancelled = [], []
    for appt, target in plan:
        if target is not None:
            appt.counter_id = target.id
            appt.sequence += 1
            db.session.flush()
            moved.append(appt)
            continue
        booking.cancel(tenant, appt, now=now, by_citizen=False, event="office_cancelled",
                       reason=_with_next_free(tenant, appt, block.reason, now))
        cancelled.append(appt)
    db.session.flush()
    return closure, moved, cancelled


def _with_next_free(tenant, appt: Appointment, reason: str, now: datetime) -> str:
    """The office's reason and, for the mail, the next time the citizen could book online."""
    slot = next_slot(Visit.of_appointment(appt), Policy.of(tenant), now=now, online=True,
                     exclude_appointment_id=appt.id)
    if slot is None:
        return reason
    when = slot.start.astimezone(zone(tenant.timezone))
    return f"{reason} Der nächste freie Termin wäre am {when:%d.%m.%Y} um {when:%H:%M} Uhr."
