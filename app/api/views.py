"""/api/v1 views: translate HTTP to the booking rules and back, nothing more."""
from __future__ import annotations

import functools
import json
from datetime import date, datetime, timedelta

from flask import current_app, g, jsonify, request, url_for
from marshmallow import ValidationError

from app import clock, fastpath
from app.api import bp
from app.api.idempotency import idempotent, remember_answer
from app.api.openapi import spec_dict
from app.problems import TYPE_BASE, ApiProblem, validation_problem
from app.ratelimit import limiter, read_limit, write_limit
from app.api.schemas import BookingRequest, MoveRequest
from app.booking import draw, fairness, refusals
from app.booking import service as booking
from app.booking.models import Appointment
from app.booking.notifications import manage_url
from app.catalog import visits
from app.catalog.models import Service, online_service, online_services
from app.extensions import db
from app.offices.models import Office
from app.offices.operations import active_offices, offices_by_id
from app.proof_of_work import new_challenge
from app.scheduling import answers
from app.scheduling.calendar import today_in, zone
from app.tenancy.resolve import PROVISIONAL_ENDPOINTS, confirm_tenant
from app.scheduling.slots import Policy, Slot, compute_slots, next_slot, reopening
from app.transaction import commit
from app.urls import tenant_url
from app.validators import parse_date

MAX_WINDOW_DAYS = 92
reads = limiter.shared_limit(read_limit, scope="api-read")
writes = limiter.shared_limit(write_limit, scope="api-write")
BOOKING_REQUEST = BookingRequest()  # a marshmallow schema holds no state of a load: built once


# --- helpers ------------------------------------------------------------------------------
def lang() -> str:
    return lang_of(request)


def lang_of(req) -> str:
    """`?lang=de|en` when given, else the Accept-Language header, else German."""
    if req.args.get("lang") in ("de", "en"):
        return req.args["lang"]
    best = req.accept_languages.best_match(["de", "en"])
    return best or "de"


def iso(dt: datetime) -> str:
    return dt.astimezone(zone(g.tenant.timezone)).isoformat()


def office_ref(office: Office) -> dict:
    return {"slug": office.slug, "name": office.name, "address": office.address}


def proposal(slot: Slot | None, offices: dict[int, Office] | None = None) -> dict | None:
    if slot is None:
        return None
    office = (offices or {}).get(slot.office_id) or db.session.get(Office, slot.office_id)
    return {"start": iso(slot.start), "end": iso(slot.end), "office": office_ref(office)}


def service_or_404(slug: str) -> Service:
    svc = online_service(slug)
    if svc is None:
        raise ApiProblem(404, "Not found", f"There is no service '{slug}' bookable online here.", type_="unknown-service")
    return svc


def json_body() -> dict:
    limit = current_app.config["API_MAX_BODY"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiProblem(413, "Payload too large", f"The body may hold at most {limit // 1024} KiB.")
    if request.mimetype != "application/json":
        raise ApiProblem(415, "Unsupported media type", "Send the body as application/json.")
    raw = request.get_data(cache=True)  # kept: an Idempotency-Key compares it with a repeat's
    if len(raw) > limit:
        raise ApiProblem(413, "Payload too large", f"The body may hold at most {limit // 1024} KiB.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "Malformed JSON", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise validation_problem({"_body": ["must be a JSON object"]})
    return body


def load(schema, body: dict) -> dict:
    try:
        return schema.load(body)
    except ValidationError as exc:
        errors = {k: _flat(v) for k, v in exc.normalized_messages().items()}
        raise validation_problem(errors) from exc


def _flat(messages, prefix: str = "") -> list[str]:
    """Nested messages (a list of objects: {0: {"count": [...]}}) as plain strings."""
    if isinstance(messages, dict):
        return [m for key, value in messages.items() for m in _flat(value, f"{prefix}{key}.")]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value, prefix)]
    return [f"{prefix.rstrip('.')}: {messages}" if prefix else str(messages)]


def appointment_json(appt: Appointment) -> dict:
    office = appt.office
    entrance = appt.entrance
    svc = appt.service
    visit = visits.Visit.of_appointment(appt)
    return {
        "code": appt.code,
        "service": {"slug": svc.slug, "name": svc.display_name(appt.lang)},
        "services": [{"slug": s.slug, "name": s.display_name(appt.lang), "count": n} for s, n in visit.items],
        "duration_minutes": round((appt.ends_at - appt.starts_at).total_seconds() / 60),
        "start": iso(appt.starts_at), "end": iso(appt.ends_at),
        "office": office_ref(office),
        "entrance": {"name": entrance.name, "directions": entrance.directions_for(appt.lang)} if entrance else None,
        "documents": visit.documents(appt.lang), "notices": office.notices_for(appt.lang), "persons": appt.persons,
        "manage_token": appt.manage_token, "manage_url": manage_url(g.tenant, appt), "status": appt.status,
    }


def taken_problem(slot: Slot | None) -> ApiProblem:
    return ApiProblem(409, "Slot taken", "This start has just been taken; here is the next free one.",
                      type_="slot-taken", next=proposal(slot))


def start_problem(message: str) -> ApiProblem:
    return validation_problem({"start": [message]})


def appointment_or_404(token: str) -> Appointment:
    appt = booking.find_by_token(token)
    if appt is None:
        raise ApiProblem(404, "Not found", "No appointment belongs to this link.", type_="unknown-appointment")
    return appt


def parse_day(name: str, default: date) -> date:
    value = request.args.get(name)
    if value is None:
        return default
    return parse_date(value) or _bad_day(name)


def _bad_day(name: str) -> date:
    raise validation_problem({name: ["must be a date like 2026-11-24"]})


def shared_answer(view):
    """Slot lists and proposals: answered from the shared cache while nothing they depend
    on changed (app/scheduling/answers.py), else computed and stored for the next request.
    A hit costs one Redis round trip and no database session: the tenant was taken from
    the process's host cache provisionally, and the same round trip confirms its version.
    A hit is usually answered before Flask, by app/fastpath.py, under the same key."""
    endpoint = f"{bp.name}.{view.__name__}"
    PROVISIONAL_ENDPOINTS.add(endpoint)

    def key_of(tenant, version: str, kwargs: dict, req) -> str:
        args = req.args
        return answers.key(tenant.id, version, endpoint,
                           (tuple(sorted(kwargs.items())), args.get("services"), args.get("from"), args.get("to"),
                            lang_of(req)))

    fastpath.register(endpoint, key_of)

    def answer_key(version: str, kwargs: dict) -> str:
        return key_of(g.tenant, version, kwargs, request)

    @functools.wraps(view)
    def wrapper(**kwargs):
        version = g.get("tenants_version")
        if version is None or request.method != "GET":
            return view(**kwargs)  # no Redis (or away): the database answers, as ever
        now = clock.now().timestamp()
        key = answer_key(version, kwargs)
        found = answers.lookup(key, version, now)
        if found.answer is not None:
            status, content_type, body = found.answer
            return current_app.response_class(body, status=status, content_type=content_type)
        if g.get("tenant_unconfirmed") and found.tenants_version != version:
            early = confirm_tenant()  # the tenant may have changed: as of now, hooks run again
            if early is not None:
                return early
            version = g.get("tenants_version")
            if version is None:
                return view(**kwargs)
            key = answer_key(version, kwargs)
        rec, token = answers.start()
        try:
            try:
                response = current_app.make_response(view(**kwargs))
            except ApiProblem as exc:
                if exc.type != TYPE_BASE + "no-free-slot":
                    raise
                response = exc.response()  # fully booked is an answer worth sharing too
        finally:
            answers.stop(token)
        if response.status_code in (200, 404):
            answers.store(key, rec, now, response.status_code, response.content_type, response.get_data())
        return response

    return wrapper


# --- tenant and catalogue -----------------------------------------------------------------
@bp.get("/tenant")
@reads
def tenant():
    t = g.tenant
    offices = active_offices()
    return jsonify({
        "slug": t.slug, "name": t.name, "timezone": t.timezone, "status": t.status,
        "contact": {"phone": t.contact_phone, "email": t.contact_email, "hours": t.contact_hours_for(lang())},
        "offices": [{**office_ref(o), "entrances": [{"name": e.name, "directions": e.directions_for(lang())}
                                                    for e in o.entrances],
                     "notices": o.notices_for(lang())} for o in offices],
    })


@bp.get("/services")
@reads
def services():
    lg = lang()
    offices = offices_by_id()
    rows = online_services()
    return jsonify([{
        "slug": s.slug, "name": s.display_name(lg), "description": s.display_description(lg),
        "duration_minutes": s.duration_minutes, "documents": s.documents_for(lg), "fee": s.fee_for(lg),
        "persons_max": s.persons_max, "additional_person_minutes": s.additional_person_minutes or s.duration_minutes,
        "combinable": s.combinable, "office": office_ref(offices[s.office_id]), "leika_key": s.leika_key or None,
    } for s in rows])


@bp.get("/services/<slug>/slots")
@reads
@shared_answer
def slots(slug: str):
    svc = service_or_404(slug)
    return jsonify({"service": {"slug": svc.slug, "name": svc.display_name(lang())}, "slots": slot_list(svc)})


@bp.get("/slots")
@reads
@shared_answer
def visit_slots():
    visit = visit_from_query()
    return jsonify({"services": visit.as_request(), "duration_minutes": visit.duration_minutes,
                    "slots": slot_list(visit)})


def visit_from_query() -> visits.Visit:
    try:
        return visits.resolve(g.tenant, visits.parse(request.args.get("services")))
    except visits.VisitProblem as exc:
        raise validation_problem({"services": [str(exc)]}) from exc


def slot_list(demand) -> list[dict]:
    """The free starts of a visit (or one service) in the `from`/`to` window of the query."""
    policy = Policy.of(g.tenant)
    today = today_in(zone(policy.timezone), clock.now())
    day_from = parse_day("from", today)
    day_to = parse_day("to", day_from + timedelta(days=27))
    if day_to < day_from:
        raise validation_problem({"to": ["must not be before 'from'"]})
    if (day_to - day_from).days > MAX_WINDOW_DAYS:
        raise validation_problem({"to": [f"must be at most {MAX_WINDOW_DAYS} days after 'from'"]})
    found = compute_slots(demand, policy, day_from, day_to)
    office = office_ref(db.session.get(Office, demand.office_id))
    tz = zone(policy.timezone)
    return [{"start": s.start.astimezone(tz).isoformat(), "end": s.end.astimezone(tz).isoformat(),
             "office": office, "free": s.free} for s in found]


@bp.get("/services/<slug>/next")
@reads
@shared_answer
def next_free(slug: str):
    return proposal_or_problem(service_or_404(slug))


@bp.get("/next")
@reads
@shared_answer
def visit_next():
    return proposal_or_problem(visit_from_query())


def proposal_or_problem(demand):
    policy = Policy.of(g.tenant)
    slot = next_slot(demand, policy)
    if slot is not None:
        return jsonify(proposal(slot))
    _, reopens, _ = reopening(demand, policy, clock.now())
    t = g.tenant
    raise ApiProblem(
        404, "No free appointment", "Every appointment within the booking horizon is taken. In an emergency, "
        "call or write to us; new days open daily.", type_="no-free-slot",
        contact={"phone": t.contact_phone, "email": t.contact_email, "hours": t.contact_hours_for(lang())},
        bookable_from=reopens.isoformat() if reopens else None,
    )


# --- proof of work (CONTRACT §5.3) --------------------------------------------------------
@bp.get("/altcha")
@reads
def altcha_challenge():
    response = jsonify(new_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response


# --- appointments -------------------------------------------------------------------------
@bp.post("/appointments")
@writes
@idempotent
def create_appointment():
    data = load(BOOKING_REQUEST, json_body())
    if "services" in data:
        try:
            visit = visits.resolve(g.tenant, [(item["slug"], item["count"]) for item in data["services"]])
        except visits.VisitProblem as exc:
            raise validation_problem({"services": [str(exc)]}) from exc
    else:
        try:
            visit = visits.one_service(data["service"], data.get("persons") or 1)
        except visits.VisitProblem as exc:
            raise validation_problem({"service" if exc.kind == "unknown" else "persons": [str(exc)]}) from exc
    try:
        fairness.admit_online(g.tenant, data.get("altcha"), may_hold=False)
    except fairness.ProofOfWorkError as exc:
        refusals.refused(g.tenant, "proof_of_work")
        raise validation_problem({"altcha": [fairness.MESSAGES[exc.reason]]}) from exc
    try:
        appt = booking.book(g.tenant, visit, data["start"], name=data["name"], email=data["email"],
                            phone=data.get("phone") or "", note=data.get("note") or "",
                            lang=data.get("lang") or lang())
    except booking.DrawOpen as exc:
        return enter_draw(visit, data, exc)
    except REFUSALS as exc:
        raise refusal_problem(exc) from exc
    body = appointment_json(appt)
    location = {"Location": url_for("api.get_appointment", token=appt.manage_token)}
    remember_answer(201, body, location)
    commit()
    return jsonify(body), 201, location


def enter_draw(visit: visits.Visit, data: dict, drawing: booking.DrawOpen):
    """The start's day is collected for a fair draw: 202 with the entry instead of a booking."""
    try:
        entry = draw.enter(g.tenant, visit, data["start"], drawing,
                           name=data["name"], email=data["email"], phone=data.get("phone") or "",
                           lang=data.get("lang") or lang())
    except draw.AlreadyEntered as exc:
        db.session.rollback()
        what = "e-mail address" if exc.cap == "email" else "phone number"
        raise ApiProblem(409, "Already entered", f"This {what} is already entered in this day's draw; each takes "
                         "part once.", type_="draw-already-entered", cap=exc.cap) from exc
    except REFUSALS as exc:
        raise refusal_problem(exc) from exc
    body = entry_json(entry)
    remember_answer(202, body)
    commit()
    return jsonify(body), 202


def entry_json(entry) -> dict:
    """A fair-draw entry as the API answers it (README, API)."""
    services = [{"slug": svc.slug, "name": svc.display_name(entry.lang), "count": count}
                for svc, count in ((db.session.get(Service, sid), count) for sid, count in entry.items)]
    return {"status": "entered", "entry": entry.reference, "service": {k: services[0][k] for k in ("slug", "name")},
            "services": services, "start": iso(entry.starts_at), "draw_at": iso(entry.draw.closes_at),
            "entry_url": tenant_url(g.tenant, "citizen.draw_entry", token=entry.token)}


# What booking, moving and entering a draw may refuse with, answered alike (`refusal_problem`).
REFUSALS = (booking.InvalidStart, booking.SlotTaken, booking.ActiveBookingLimit, booking.DrawPending,
            booking.DeadlinePassed, draw.DrawClosed)


def refusal_problem(exc: booking.BookingError) -> ApiProblem:
    """The answer to one of REFUSALS; a cap's refusal is counted."""
    if isinstance(exc, booking.InvalidStart):
        return start_problem(str(exc))
    if isinstance(exc, booking.SlotTaken):
        return taken_problem(exc.fresh_proposal())
    if isinstance(exc, booking.ActiveBookingLimit):
        refusals.refused(g.tenant, f"cap_{exc.cap}")
        return limit_problem(exc)
    if isinstance(exc, booking.DeadlinePassed):
        return deadline_problem()
    return draw_pending_problem()  # DrawPending, DrawClosed: the day is being drawn


def draw_pending_problem() -> ApiProblem:
    db.session.rollback()
    return ApiProblem(503, "Draw in progress", "This day's places are being drawn by lot right now; try again "
                      "in a few seconds.", type_="draw-in-progress", headers={"Retry-After": "5"})


def limit_problem(exc: booking.ActiveBookingLimit) -> ApiProblem:
    """409 naming the cap that answered: `cap` is "email" or "phone" (README, API)."""
    what = "e-mail address" if exc.cap == "email" else "phone number"
    return ApiProblem(409, "Too many active bookings",
                      f"The {exc.cap} cap answered: this {what} already holds {exc.limit} active appointment(s) "
                      "here; cancel one first or call us.", type_="active-booking-limit", cap=exc.cap,
                      limit=exc.limit)


@bp.get("/appointments/<token>")
@reads
def get_appointment(token: str):
    return jsonify(appointment_json(appointment_or_404(token)))


@bp.patch("/appointments/<token>")
@writes
@idempotent
def move_appointment(token: str):
    appt = appointment_or_404(token)
    data = load(MoveRequest(), json_body())
    try:
        booking.move(g.tenant, appt, data["start"])
    except booking.NotActive as exc:
        raise ApiProblem(422, "Not movable", f"This appointment is {appt.status} and can no longer be moved.",
                         type_="appointment-not-active") from exc
    except REFUSALS as exc:
        raise refusal_problem(exc) from exc
    body = appointment_json(appt)
    remember_answer(200, body)
    commit()
    return jsonify(body)


@bp.delete("/appointments/<token>")
@writes
@idempotent
def cancel_appointment(token: str):
    appt = appointment_or_404(token)
    try:
        booking.cancel(g.tenant, appt)
    except booking.AlreadyStarted as exc:
        raise ApiProblem(422, "Already started", "This appointment has started and can no longer be "
                         f"cancelled online; please call {g.tenant.contact_phone}.", type_="appointment-started",
                         contact={"phone": g.tenant.contact_phone, "email": g.tenant.contact_email}) from exc
    except booking.NotActive as exc:
        raise ApiProblem(422, "Not cancellable", f"This appointment is {appt.status}.",
                         type_="appointment-not-active") from exc
    remember_answer(204, None)
    commit()
    return "", 204


def deadline_problem() -> ApiProblem:
    hours = g.tenant.settings["cancel_deadline_hours"]
    return ApiProblem(422, "Moving deadline passed",
                      f"Appointments can be moved online until {hours} hours before (cancelled until the "
                      f"start); please call "
                      f"{g.tenant.contact_phone}.", type_="cancellation-deadline",
                      contact={"phone": g.tenant.contact_phone, "email": g.tenant.contact_email})


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec_dict())
