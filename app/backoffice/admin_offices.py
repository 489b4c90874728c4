"""Admin: offices with address, entrances and directions, notices, counters, weekly
opening hours with validity ranges, and closures. A change that would strand booked
appointments lists them and asks before it is saved."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app.backoffice import bp
from app.backoffice.access import audit, one_or_404, parse_int, role_required
from app.backoffice.admin_rules import stranded_in_office
from app.backoffice.common import local, parse_day, parse_time
from app.extensions import db
from app.offices.models import Closure, Counter, Entrance, Office, OpeningHours
from app.tenancy.files import DAYS
from app.transaction import commit

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


@bp.route("/offices")
@role_required("admin")
def offices_list():
    rows = list(db.session.scalars(select(Office).order_by(Office.position, Office.id)))
    return render_template("backoffice/offices.html", offices=rows)


def _page(office: Office, status: int = 200, **extra):
    hours = list(db.session.scalars(select(OpeningHours).where(OpeningHours.office_id == office.id)
                                    .order_by(OpeningHours.weekday, OpeningHours.opens)))
    closures = list(db.session.scalars(select(Closure).where(Closure.office_id == office.id)
                                       .order_by(Closure.starts_at.desc()).limit(50)))
    counters = {c.id: c for c in office.counters}
    return render_template("backoffice/office_edit.html", office=office, hours=hours, closures=closures,
                           counters=counters, weekdays=WEEKDAYS, local=local, form=request.form, **extra), status


def _back(office: Office, message: str):
    flash(message)
    return redirect(url_for("backoffice.office_edit", office_id=office.id))


def _strands_or_commit(office: Office, action: str, obj_type: str, obj_id, before, after, message: str):
    """Flushed change: if it strands booked appointments and is not confirmed, undo and ask."""
    db.session.flush()
    stranded = stranded_in_office(g.tenant, office.id)
    if stranded and request.form.get("confirm") != "1":
        db.session.rollback()
        office = one_or_404(Office, office.id)
        return _page(office, 409, stranded=stranded, confirm_form=request.form, confirm_url=request.path)
    audit(action, obj_type, obj_id, before=before, after=after | ({"stranded": [a.code for a in stranded]}
                                                                  if stranded else {}))
    commit()
    if stranded:
        message += f" {len(stranded)} Termin(e) liegen jetzt außerhalb der Öffnungszeiten; bitte kümmern Sie sich darum."
    return _back(office, message)


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
@role_required("admin")
def office_edit(office_id: int):
    office = one_or_404(Office, office_id)
    if request.method == "GET":
        return _page(office)
    f = request.form
    name, address = (f.get("name") or "").strip(), (f.get("address") or "").strip()
    notices = [n.strip() for n in (f.get("notices") or "").splitlines() if n.strip()]
    errors = {}
    if not 1 <= len(name) <= 200:
        errors["Name"] = "muss 1 bis 200 Zeichen lang sein"
    if not 1 <= len(address) <= 300:
        errors["Adresse"] = "muss 1 bis 300 Zeichen lang sein"
    if any(len(n) > 1000 for n in notices):
        errors["Hinweise"] = "jeder Hinweis darf höchstens 1000 Zeichen lang sein"
    if errors:
        return _page(office, 422, errors=errors)
    before = {"name": office.name, "address": office.address, "notices": list(office.notices or [])}
    office.name, office.address, office.notices = name, address, notices
    audit("office_updated", "office", office.id, before=before, after={"name": name, "address": address,
                                                                        "notices": notices})
    commit()
    return _back(office, "Büro gespeichert.")


@bp.route("/offices/<int:office_id>/entrances", methods=["POST"])
@role_required("admin")
def office_entrance(office_id: int):
    office = one_or_404(Office, office_id)
    f = request.form
    name, directions = (f.get("name") or "").strip(), (f.get("directions") or "").strip()
    entrance = one_or_404(Entrance, parse_int(f.get("entrance_id"), 0), Entrance.office_id == office.id) \
        if f.get("entrance_id") else None
    if f.get("action") == "delete" and entrance is not None:
        from app.booking.models import Appointment

        if db.session.scalar(select(Appointment.id).where(Appointment.entrance_id == entrance.id).limit(1)):
            return _page(office, 409, errors={"Eingang": "Termine verweisen auf diesen Eingang; ändern Sie ihn statt "
                                                        "ihn zu löschen."})
        audit("entrance_deleted", "entrance", entrance.id, before={"name": entrance.name}, after=None)
        office.entrances.remove(entrance)
        commit()
        return _back(office, "Eingang gelöscht.")
    if not 1 <= len(name) <= 200 or len(directions) > 2000:
        return _page(office, 422, errors={"Eingang": "Name 1 bis 200 Zeichen, Wegbeschreibung höchstens 2000"})
    if entrance is None:
        entrance = Entrance(name=name, directions=directions, position=len(office.entrances))
        office.entrances.append(entrance)
        before = None
    else:
        before = {"name": entrance.name, "directions": entrance.directions}
        entrance.name, entrance.directions = name, directions
    db.session.flush()
    audit("entrance_saved", "entrance", entrance.id, before=before, after={"name": name, "directions": directions})
    commit()
    return _back(office, "Eingang gespeichert.")


@bp.route("/offices/<int:office_id>/counters", methods=["POST"])
@role_required("admin")
def office_counter(office_id: int):
    office = one_or_404(Office, office_id)
    f = request.form
    name = (f.get("name") or "").strip()
    if not 1 <= len(name) <= 100:
        return _page(office, 422, errors={"Schalter": "Name muss 1 bis 100 Zeichen lang sein"})
    if not f.get("counter_id"):
        slugs = {c.slug for c in office.counters}
        n = len(office.counters) + 1
        while f"schalter-{n}" in slugs:
            n += 1
        counter = Counter(slug=f"schalter-{n}", name=name, position=len(office.counters))
        office.counters.append(counter)
        db.session.flush()
        audit("counter_added", "counter", counter.id, after={"name": name})
        commit()
        return _back(office, "Schalter angelegt.")
    counter = one_or_404(Counter, parse_int(f.get("counter_id"), 0), Counter.office_id == office.id)
    before = {"name": counter.name, "active": counter.active}
    counter.name, counter.active = name, f.get("active") == "1"
    return _strands_or_commit(office, "counter_updated", "counter", counter.id, before,
                              {"name": counter.name, "active": counter.active}, "Schalter gespeichert.")


@bp.route("/offices/<int:office_id>/hours", methods=["POST"])
@role_required("admin")
def office_hours(office_id: int):
    office = one_or_404(Office, office_id)
    f = request.form
    if f.get("action") == "delete":
        rule = one_or_404(OpeningHours, parse_int(f.get("rule_id"), 0), OpeningHours.office_id == office.id)
        before = _rule_json(rule)
        db.session.delete(rule)
        return _strands_or_commit(office, "opening_hours_deleted", "opening_hours", rule.id, before, {},
                                  "Öffnungszeit gelöscht.")
    errors = {}
    days = [d for d in f.getlist("weekday") if d in DAYS]
    opens, closes = parse_time(f.get("opens")), parse_time(f.get("closes"))
    valid_from = parse_day(f.get("valid_from")) if f.get("valid_from") else None
    valid_until = parse_day(f.get("valid_until")) if f.get("valid_until") else None
    counter_id = parse_int(f.get("counter")) if f.get("counter") else None
    if not days:
        errors["Wochentage"] = "mindestens einen wählen"
    if opens is None or closes is None or opens >= closes:
        errors["Uhrzeit"] = "„bis“ muss nach „von“ liegen (z. B. 08:00 bis 12:00)"
    if (f.get("valid_from") and valid_from is None) or (f.get("valid_until") and valid_until is None):
        errors["Gültigkeit"] = "ungültiges Datum"
    elif valid_from and valid_until and valid_from > valid_until:
        errors["Gültigkeit"] = "„gültig bis“ darf nicht vor „gültig ab“ liegen"
    if counter_id is not None and counter_id not in {c.id for c in office.counters}:
        errors["Schalter"] = "gehört nicht zu diesem Büro"
    if errors:
        return _page(office, 422, errors=errors)
    rows = []
    for day in days:
        rule = OpeningHours(office_id=office.id, counter_id=counter_id, weekday=DAYS.index(day), opens=opens,
                            closes=closes, valid_from=valid_from, valid_until=valid_until)
        db.session.add(rule)
        rows.append(rule)
    db.session.flush()
    return _strands_or_commit(office, "opening_hours_added", "office", office.id, None,
                              {"rules": [_rule_json(r) for r in rows]}, "Öffnungszeit hinzugefügt.")


def _rule_json(rule: OpeningHours) -> dict:
    return {"weekday": rule.weekday, "opens": rule.opens.strftime("%H:%M"), "closes": rule.closes.strftime("%H:%M"),
            "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
            "valid_until": rule.valid_until.isoformat() if rule.valid_until else None, "counter_id": rule.counter_id}


@bp.route("/offices/<int:office_id>/closures/<int:closure_id>/delete", methods=["POST"])
@role_required("admin")
def closure_delete(office_id: int, closure_id: int):
    office = one_or_404(Office, office_id)
    closure = one_or_404(Closure, closure_id, Closure.office_id == office.id)
    audit("closure_deleted", "closure", closure.id, before={"starts_at": closure.starts_at.isoformat(),
                                                            "ends_at": closure.ends_at.isoformat(),
                                                            "reason": closure.reason})
    db.session.delete(closure)
    commit()
    return _back(office, "Schließung aufgehoben; die Zeit ist wieder buchbar.")


