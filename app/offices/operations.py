"""What an admin does to an office: its name, address and notices, entrances, counters,
weekly opening hours and closures. They flush, never commit; whether a change strands
booked appointments is asked of app.scheduling.stranded before the caller commits."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from app.offices.models import DAYS, Closure, Counter, Entrance, Office, OpeningHours
from app.validators import Invalid


def active_offices() -> list[Office]:
    """The offices in service, in the order the town lists them."""
    return list(db.session.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.position, Office.id)))


def all_offices() -> list[Office]:
    """Every office of the tenant, out of service too, in their order (the admin's list)."""
    return list(db.session.scalars(select(Office).order_by(Office.position, Office.id)))


def offices_by_id() -> dict[int, Office]:
    return {o.id: o for o in db.session.scalars(select(Office))}


def hours_of(office: Office) -> list[OpeningHours]:
    """The office's weekly opening-hour rules, every validity range, by weekday and time."""
    return list(db.session.scalars(select(OpeningHours).where(OpeningHours.office_id == office.id)
                                   .order_by(OpeningHours.weekday, OpeningHours.opens)))


def latest_closures(office: Office, limit: int = 50) -> list[Closure]:
    """The office's closures, newest first (past ones too), at most `limit`."""
    return list(db.session.scalars(select(Closure).where(Closure.office_id == office.id)
                                   .order_by(Closure.starts_at.desc()).limit(limit)))


def counters_of(office_id: int) -> list[Counter]:
    """The office's counters in their order (active or not)."""
    return list(db.session.scalars(select(Counter).where(Counter.office_id == office_id)
                                   .order_by(Counter.position, Counter.id)))


def counter_in(office_id: int, counter_id: int | None) -> Counter | None:
    """The counter `counter_id` if it belongs to the office (a form's choice), else None."""
    return next((c for c in counters_of(office_id) if c.id == counter_id), None) if counter_id is not None else None


def public_hours(today: date) -> dict[int, dict[int, list[OpeningHours]]]:
    """Office id → weekday → the office's current and coming opening-hours rules (the
    office's own, not a single counter's)."""
    rules = db.session.scalars(
        select(OpeningHours).where(OpeningHours.counter_id.is_(None))
        .order_by(OpeningHours.weekday, OpeningHours.opens)
    )
    hours: dict[int, dict[int, list[OpeningHours]]] = {}
    for r in rules:
        if r.valid_until is None or r.valid_until >= today:
            hours.setdefault(r.office_id, {}).setdefault(r.weekday, []).append(r)
    return hours


def coming_closures(now: datetime, *, days: int = 60) -> list[Closure]:
    """Whole-office closures not over yet that begin within `days`, soonest first."""
    return list(db.session.scalars(
        select(Closure).where(Closure.counter_id.is_(None), Closure.ends_at > now,
                              Closure.starts_at < now + timedelta(days=days)).order_by(Closure.starts_at)
    ))


class EntranceInUse(Exception):
    """Appointments point at the entrance; it can be changed, not deleted."""


def update_office(office: Office, *, name: str, address: str, notices: list[str],
                  notices_en: list[str] | None = None) -> dict:
    """Set name, address and notices (English ones: None leaves them); raises Invalid. Returns the values before."""
    name, address = name.strip(), address.strip()
    notices = [n.strip() for n in notices if n.strip()]
    notices_en = None if notices_en is None else [n.strip() for n in notices_en if n.strip()]
    errors = {}
    if notices_en is not None and any(len(n) > 1000 for n in notices_en):
        errors["Hinweise (englisch)"] = "jeder Hinweis darf höchstens 1000 Zeichen lang sein"
    if not 1 <= len(name) <= 200:
        errors["Name"] = "muss 1 bis 200 Zeichen lang sein"
    if not 1 <= len(address) <= 300:
        errors["Adresse"] = "muss 1 bis 300 Zeichen lang sein"
    if any(len(n) > 1000 for n in notices):
        errors["Hinweise"] = "jeder Hinweis darf höchstens 1000 Zeichen lang sein"
    if errors:
        raise Invalid(errors)
    before = office_snapshot(office)
    office.name, office.address, office.notices = name, address, notices
    if notices_en is not None:
        office.notices_en = notices_en
    db.session.flush()
    return before


def office_snapshot(office: Office) -> dict:
    return {"name": office.name, "address": office.address, "notices": list(office.notices or []),
            "notices_en": list(office.notices_en or [])}


def save_entrance(office: Office, entrance: Entrance | None, *, name: str,
                  directions: str, directions_en: str = "") -> tuple[Entrance, dict | None]:
    """Add an entrance (`entrance` None) or change one; raises Invalid. Returns it and the values before."""
    name, directions, directions_en = name.strip(), directions.strip(), directions_en.strip()
    if not 1 <= len(name) <= 200 or len(directions) > 2000 or len(directions_en) > 2000:
        raise Invalid({"Eingang": "Name 1 bis 200 Zeichen, Wegbeschreibung höchstens 2000"})
    if entrance is None:
        entrance = Entrance(name=name, directions=directions, directions_en=directions_en,
                            position=len(office.entrances))
        office.entrances.append(entrance)
        before = None
    else:
        before = {"name": entrance.name, "directions": entrance.directions, "directions_en": entrance.directions_en}
        entrance.name, entrance.directions, entrance.directions_en = name, directions, directions_en
    db.session.flush()
    return entrance, before


def delete_entrance(office: Office, entrance: Entrance) -> None:
    """Raises EntranceInUse while any appointment names the entrance."""
    if db.session.scalar(select(Appointment.id).where(Appointment.entrance_id == entrance.id).limit(1)):
        raise EntranceInUse()
    office.entrances.remove(entrance)
    db.session.flush()


def _check_counter_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise Invalid({"Schalter": "Name muss 1 bis 100 Zeichen lang sein"})
    return name


def add_counter(office: Office, name: str) -> Counter:
    """A new counter with the next free slug `schalter-N`; raises Invalid."""
    name = _check_counter_name(name)
    slugs = {c.slug for c in office.counters}
    n = len(office.counters) + 1
    while f"schalter-{n}" in slugs:
        n += 1
    counter = Counter(slug=f"schalter-{n}", name=name, position=len(office.counters))
    office.counters.append(counter)
    db.session.flush()
    return counter


def update_counter(counter: Counter, *, name: str, active: bool) -> dict:
    """Rename or switch a counter on or off; raises Invalid. Returns the values before."""
    name = _check_counter_name(name)
    before = {"name": counter.name, "active": counter.active}
    counter.name, counter.active = name, active
    db.session.flush()
    return before


def opening_hours_problems(office: Office, *, days: list[str], opens: time | None, closes: time | None,
                           valid_from: date | None, valid_until: date | None, counter_id: int | None) -> dict:
    """What is wrong with a new weekly rule, per field (empty when nothing)."""
    errors = {}
    if not days:
        errors["Wochentage"] = "mindestens einen wählen"
    if opens is None or closes is None or opens >= closes:
        errors["Uhrzeit"] = "„bis“ muss nach „von“ liegen (z. B. 08:00 bis 12:00)"
    if valid_from and valid_until and valid_from > valid_until:
        errors["Gültigkeit"] = "„gültig bis“ darf nicht vor „gültig ab“ liegen"
    if counter_id is not None and counter_id not in {c.id for c in office.counters}:
        errors["Schalter"] = "gehört nicht zu diesem Büro"
    return errors


def add_opening_hours(office: Office, *, days: list[str], opens: time, closes: time, valid_from: date | None,
                      valid_until: date | None, counter_id: int | None) -> list[OpeningHours]:
    """One rule per weekday; check opening_hours_problems() first."""
    rows = []
    for day in days:
        rule = OpeningHours(office_id=office.id, counter_id=counter_id, weekday=DAYS.index(day), opens=opens,
                            closes=closes, valid_from=valid_from, valid_until=valid_until)
        db.session.add(rule)
        rows.append(rule)
    db.session.flush()
    return rows


def delete_opening_hours(rule: OpeningHours) -> dict:
    before = rule_snapshot(rule)
    db.session.delete(rule)
    db.session.flush()
    return before


def rule_snapshot(rule: OpeningHours) -> dict:
    return {"weekday": rule.weekday, "opens": rule.opens.strftime("%H:%M"), "closes": rule.closes.strftime("%H:%M"),
            "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
            "valid_until": rule.valid_until.isoformat() if rule.valid_until else None, "counter_id": rule.counter_id}


def closure_snapshot(closure: Closure) -> dict:
    return {"starts_at": closure.starts_at.isoformat(), "ends_at": closure.ends_at.isoformat(),
            "reason": closure.reason}


def delete_closure(closure: Closure) -> dict:
    """The closed time is bookable again. Returns the closure as it was."""
    before = closure_snapshot(closure)
    db.session.delete(closure)
    db.session.flush()
    return before
