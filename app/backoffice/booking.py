"""Phone and emergency bookings by clerks; the next free slot includes held-back capacity."""
from __future__ import annotations

from datetime import timezone

from flask import flash, g, redirect, render_template, request, url_for

from app import clock
from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, one_or_404, parse_int, role_required
from app.backoffice.common import local, parse_day, parse_local, today
from app.booking import service as booking
from app.booking import staff
from app.booking import emergencies
from app.booking.models import EmergencyRequest
from app.catalog import visits
from app.catalog.models import Service, staff_service, staff_services
from app.extensions import db
from app.offices.operations import counter_in, counters_of
from app.scheduling.slots import Policy, compute_slots
from app.transaction import commit
from app.validators import parse_start


def _service_from(value) -> Service | None:
    return staff_service(parse_int(value))


EXTRA_SERVICES = (2, 3)  # a caller's visit: up to two more services, each with its count


def _visit_from(form, service: Service | None) -> tuple[visits.Visit | None, str | None]:
    """The visit the form names (service, persons, service2, persons2, …); (None, None)
    for a plain one-service booking, (None, why) for a combination that cannot be booked."""
    if service is None:
        return None, None
    items = [(service, parse_int(form.get("persons"), 1) or 1)]
    for n in EXTRA_SERVICES:
        extra = _service_from(form.get(f"service{n}"))
        if extra is not None:
            items.append((extra, parse_int(form.get(f"persons{n}"), 1) or 1))
    if len(items) == 1:
        return None, None
    try:
        return visits.resolve(g.tenant, [(s.slug, c) for s, c in items], online=False), None
    except visits.VisitProblem as exc:
        return None, exc.explain()


def _form_context(service: Service | None, kind: str, form: dict) -> dict:
    """Services, the proposal and the free starts of the chosen day for the form."""
    visit, visit_error = _visit_from(form, service)
    ctx = {"services": staff_services(), "service": service, "kind": kind, "form": form, "local": local,
           "proposal": None, "slots": [], "counters": [], "visit": visit, "visit_error": visit_error,
           "extra_services": EXTRA_SERVICES}
    if service is not None:
        demand = visit or service
        ctx["proposal"] = staff.proposal(g.tenant, demand)
        day = parse_day(form.get("day")) or (local(ctx["proposal"].start).date() if ctx["proposal"] else today())
        ctx["day"] = day
        ctx["slots"] = compute_slots(demand, Policy.of(g.tenant), day, day, online=False, now=clock.now())
        ctx["counters"] = counters_of(service.office_id)
    return ctx


def _person(form) -> dict:
    return {"name": form.get("name", ""), "email": form.get("email", ""), "phone": form.get("phone", ""),
            "persons": parse_int(form.get("persons"), 1) or 1, "note": form.get("note", "")}


def _attempt(book, taken_message: str):
    """Run a clerk's booking; (appointment, None) or (None, what to tell the clerk)."""
    try:
        return book(), None
    except staff.StaffError as exc:
        return None, str(exc)
    except booking.InvalidStart as exc:
        return None, f"Dieser Beginn ist nicht buchbar: {exc}"
    except booking.SlotTaken:
        return None, taken_message


@bp.route("/phone-booking", methods=["GET", "POST"])
@role_required("staff")
def phone_booking():
    form = request.form if request.method == "POST" else request.args
    service = _service_from(form.get("service"))
    if request.method == "POST":
        start = parse_start(form.get("start"))
        error = None
        visit, visit_error = _visit_from(form, service)
        if service is None:
            error = "Bitte eine Dienstleistung wählen."
        elif visit_error:
            error = visit_error
        elif start is None:
            error = "Bitte eine Uhrzeit wählen."
        else:
            appt, error = _attempt(
                lambda: staff.book_for_caller(g.tenant, visit or service, start, source="phone", **_person(form)),
                "Diese Zeit wurde gerade vergeben. Bitte eine andere wählen.")
            if appt is not None:
                return audited_redirect(url_for("backoffice.appointment", appt_id=appt.id), "phone_booking",
                                        "appointment", appt.id, f"Termin {appt.code} gebucht.",
                                        after=staff.snapshot(appt))
        db.session.rollback()
        return render_template("backoffice/booking.html", error=error, **_form_context(service, "phone", form)), 422
    return render_template("backoffice/booking.html", **_form_context(service, "phone", form))


@bp.route("/emergency-booking", methods=["GET", "POST"])
@role_required("staff")
def emergency_booking():
    form = request.form if request.method == "POST" else request.args
    request_row = None
    if form.get("request"):
        request_row = one_or_404(EmergencyRequest, parse_int(form.get("request"), 0))
        if request.method == "GET":
            form = {"name": request_row.name, "email": request_row.email, "phone": request_row.phone,
                    "service": str(request_row.service_id or ""), "request": str(request_row.id),
                    "note": "Notfallanfrage", **request.args.to_dict()}
    service = _service_from(form.get("service"))
    if request.method == "POST":
        error = None
        overbooking = form.get("mode") == "overbook"
        start = (parse_local(form.get("day"), form.get("time")) if overbooking else parse_start(form.get("start")))
        if service is None:
            error = "Bitte eine Dienstleistung wählen."
        elif start is None:
            error = "Bitte Tag und Uhrzeit wählen."
        else:
            start = start.astimezone(timezone.utc)

            def book():
                if not overbooking:
                    return staff.book_for_caller(g.tenant, service, start, source="emergency", **_person(form))
                counter = counter_in(service.office_id, parse_int(form.get("counter")))
                if counter is None:
                    raise staff.StaffError("Bitte einen Schalter wählen.")
                return staff.overbook(g.tenant, service, start, counter, reason=form.get("reason", ""),
                                      **_person(form))

            appt, error = _attempt(
                book, "Diese Zeit ist belegt. Wählen Sie eine andere oder überbuchen Sie mit Begründung.")
            if appt is not None:
                after = staff.snapshot(appt) | ({"overbook_reason": appt.overbook_reason} if appt.overbooked else {})
                audit("emergency_overbooking" if appt.overbooked else "emergency_booking", "appointment", appt.id,
                      after=after)
                if request_row is not None:
                    before = emergencies.link_booking(request_row, appt)
                    audit("emergency_request_booked", "emergency_request", request_row.id, before=before,
                          after={"status": "booked", "appointment": appt.code})
                commit()
                flash(f"Notfalltermin {appt.code} gebucht" + (" (überbucht)." if appt.overbooked else "."))
                return redirect(url_for("backoffice.appointment", appt_id=appt.id))
        db.session.rollback()
        return render_template("backoffice/booking.html", error=error, request_row=request_row,
                               **_form_context(service, "emergency", form)), 422
    return render_template("backoffice/booking.html", request_row=request_row,
                           **_form_context(service, "emergency", form))
