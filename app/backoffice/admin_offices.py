"""Admin: offices with address, entrances and directions, notices, counters, weekly
opening hours with validity ranges, and closures. A change that would strand booked
appointments lists them and asks before it is saved."""
from __future__ import annotations

from flask import g, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audited_redirect, one_or_404, parse_int, role_required
from app.backoffice.common import local
from app.backoffice.forms import parse_hours_form
from app.extensions import db
from app.offices import operations
from app.offices.models import Closure, Counter, Entrance, Office, OpeningHours
from app.scheduling.stranded import stranded_in_office
from app.validators import Invalid

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


@bp.route("/offices")
@role_required("admin")
def offices_list():
    return render_template("backoffice/offices.html", offices=operations.all_offices())


def _page(office: Office, status: int = 200, **extra):
    hours = operations.hours_of(office)
    closures = operations.latest_closures(office)
    counters = {c.id: c for c in office.counters}
    return render_template("backoffice/office_edit.html", office=office, hours=hours, closures=closures,
                           counters=counters, weekdays=WEEKDAYS, local=local, form=request.form, **extra), status


def _office_url(office: Office) -> str:
    return url_for("backoffice.office_edit", office_id=office.id)


def _apply(office: Office, change, action: str, obj_type: str, message: str):
    """Run `change()`, an offices.operations call returning (id, before, after): a problem
    shows the page again (422); otherwise audit, commit and back to the office."""
    try:
        obj_id, before, after = change()
    except Invalid as exc:
        return _page(office, 422, errors=exc.errors)
    return audited_redirect(_office_url(office), action, obj_type, obj_id, message, before=before, after=after)


def _strands_or_commit(office: Office, action: str, obj_type: str, obj_id, before, after, message: str):
    """Flushed change: if it strands booked appointments and is not confirmed, undo and ask."""
    db.session.flush()
    stranded = stranded_in_office(g.tenant, office.id)
    if stranded and request.form.get("confirm") != "1":
        db.session.rollback()
        office = one_or_404(Office, office.id)
        return _page(office, 409, stranded=stranded, confirm_form=request.form, confirm_url=request.path)
    if stranded:
        after = after | {"stranded": [a.code for a in stranded]}
        message += f" {len(stranded)} Termin(e) liegen jetzt außerhalb der Öffnungszeiten; bitte kümmern Sie sich darum."
    return audited_redirect(_office_url(office), action, obj_type, obj_id, message, before=before, after=after)


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
@role_required("admin")
def office_edit(office_id: int):
    office = one_or_404(Office, office_id)

    def change():
        f = request.form
        before = operations.update_office(office, name=f.get("name") or "", address=f.get("address") or "",
                                          notices=(f.get("notices") or "").splitlines(),
                                          notices_en=(f["notices_en"].splitlines() if "notices_en" in f else None))
        return office.id, before, operations.office_snapshot(office)

    if request.method == "POST":
        return _apply(office, change, "office_updated", "office", "Büro gespeichert.")
    return _page(office)


@bp.route("/offices/<int:office_id>/entrances", methods=["POST"])
@role_required("admin")
def office_entrance(office_id: int):
    office = one_or_404(Office, office_id)
    f = request.form
    entrance = one_or_404(Entrance, parse_int(f.get("entrance_id"), 0), Entrance.office_id == office.id) \
        if f.get("entrance_id") else None
    if f.get("action") == "delete" and entrance is not None:
        entrance_id, before = entrance.id, {"name": entrance.name}
        try:
            operations.delete_entrance(office, entrance)
        except operations.EntranceInUse:
            return _page(office, 409, errors={"Eingang": "Termine verweisen auf diesen Eingang; ändern Sie ihn statt "
                                                        "ihn zu löschen."})
        return audited_redirect(_office_url(office), "entrance_deleted", "entrance", entrance_id, "Eingang gelöscht.",
                                before=before)

    def change():
        saved, before = operations.save_entrance(office, entrance, name=f.get("name") or "",
                                                 directions=f.get("directions") or "",
                                                 directions_en=f.get("directions_en") or "")
        return saved.id, before, {"name": saved.name, "directions": saved.directions,
                                  "directions_en": saved.directions_en}

    return _apply(office, change, "entrance_saved", "entrance", "Eingang gespeichert.")


@bp.route("/offices/<int:office_id>/counters", methods=["POST"])
@role_required("admin")
def office_counter(office_id: int):
    office = one_or_404(Office, office_id)
    name, counter_id = request.form.get("name") or "", request.form.get("counter_id")
    if not counter_id:
        def change():
            counter = operations.add_counter(office, name)
            return counter.id, None, {"name": counter.name}

        return _apply(office, change, "counter_added", "counter", "Schalter angelegt.")
    counter = one_or_404(Counter, parse_int(counter_id, 0), Counter.office_id == office.id)
    try:
        before = operations.update_counter(counter, name=name, active=request.form.get("active") == "1")
    except Invalid as exc:
        return _page(office, 422, errors=exc.errors)
    return _strands_or_commit(office, "counter_updated", "counter", counter.id, before,
                              {"name": counter.name, "active": counter.active}, "Schalter gespeichert.")


@bp.route("/offices/<int:office_id>/hours", methods=["POST"])
@role_required("admin")
def office_hours(office_id: int):
    office = one_or_404(Office, office_id)
    f = request.form
    if f.get("action") == "delete":
        rule = one_or_404(OpeningHours, parse_int(f.get("rule_id"), 0), OpeningHours.office_id == office.id)
        rule_id = rule.id
        before = operations.delete_opening_hours(rule)
        return _strands_or_commit(office, "opening_hours_deleted", "opening_hours", rule_id, before, {},
                                  "Öffnungszeit gelöscht.")
    values, errors = parse_hours_form(f)
    errors = {**operations.opening_hours_problems(office, **values), **errors}
    if errors:
        return _page(office, 422, errors=errors)
    rows = operations.add_opening_hours(office, **values)
    return _strands_or_commit(office, "opening_hours_added", "office", office.id, None,
                              {"rules": [operations.rule_snapshot(r) for r in rows]}, "Öffnungszeit hinzugefügt.")


@bp.route("/offices/<int:office_id>/closures/<int:closure_id>/delete", methods=["POST"])
@role_required("admin")
def closure_delete(office_id: int, closure_id: int):
    office = one_or_404(Office, office_id)
    closure = one_or_404(Closure, closure_id, Closure.office_id == office.id)
    closure_id = closure.id
    before = operations.delete_closure(closure)
    return audited_redirect(_office_url(office), "closure_deleted", "closure", closure_id,
                            "Schließung aufgehoben; die Zeit ist wieder buchbar.", before=before)
