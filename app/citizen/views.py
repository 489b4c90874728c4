"""Citizen pages: translate HTTP to the booking rules and back, nothing more.

They work without JavaScript: every step is a link or a form, every POST answers with
a redirect (POST/redirect/GET) or with the same page and what went wrong."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from app import clock, validators
from app.ratelimit import limiter, write_limit
from app.booking import fairness, refusals
from app.booking import service as booking
from app.booking import draw, emergencies, reconfirm, waitlist
from app.booking.models import Appointment
from app.booking.notifications import calendar_file
from app.catalog import visits
from app.catalog.models import Service, offline_service, offline_services, online_service, online_services
from app.citizen import bp, forms
from app.citizen import format as fmt
from app.citizen.calendar import month_view
from app.extensions import db
from app.faults import DB_UNAVAILABLE, discard_session
from app.i18n import current_lang
from app.offices.operations import active_offices, coming_closures, public_hours
from app.scheduling import answers
from app.scheduling.calendar import today_in, zone
from app.scheduling.slots import (Policy, Slot, draw_announcement, draw_running, next_release, next_slot, reopening,
                                  slot_at)
from app.tenancy.resolve import framing_hosts, listed_tenants
from app.transaction import commit

# Bookings, moves and cancels share the API's per-client budget; reads are not limited here.
posts_limited = limiter.shared_limit(write_limit, scope="api-write", exempt_when=lambda: request.method != "POST")


# --- helpers ------------------------------------------------------------------------------
def service_or_404(slug: str | None) -> Service:
    svc = online_service(slug)
    if svc is None:
        abort(404)
    return svc


def appointment_or_404(token: str) -> Appointment:
    appt = booking.find_by_token(token)
    if appt is None:
        abort(404)
    return appt


def parse_start(value: str | None) -> datetime | None:
    """A start from a link (validators.parse_start); without an offset, the town's time."""
    return validators.parse_start(value, zone(g.tenant.timezone))


def local_iso(dt: datetime) -> str:
    return dt.astimezone(zone(g.tenant.timezone)).isoformat()


def book_url(service: Service, slot: Slot | datetime) -> str:
    start = slot.start if isinstance(slot, Slot) else slot
    return url_for("citizen.book", service=service.slug, start=local_iso(start))




def localized(key: str) -> str:
    """A tenant text (privacy, emergency) in the page's language when the tenant has one."""
    return g.tenant.text(key, current_lang())


# --- headers ------------------------------------------------------------------------------
@bp.after_request
def _headers(response: Response) -> Response:
    """Citizen pages may be framed by the tenant's own sites only (see docs/embedding.md)."""
    tenant = g.get("tenant")
    ancestors = ["'self'"]
    if tenant is not None and not 300 <= response.status_code < 400:  # a redirect is never framed: no host lookup
        base = current_app.config["BASE_DOMAIN"]
        ancestors.append(f"{tenant.slug}.{base}")
        try:
            ancestors.extend(framing_hosts(tenant.id))
        except DB_UNAVAILABLE:  # the database is away: this answer is the 503 page
            discard_session()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
        f"base-uri 'self'; frame-ancestors {' '.join(dict.fromkeys(ancestors))}"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(("/manage/", "/book", "/waitlist", "/emergency")):
        # Personal data and secret links: not cached, not indexed.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- home ---------------------------------------------------------------------------------
@bp.get("/")
def home():
    if g.tenant is None:
        return tenant_list()
    now = clock.now()
    today = today_in(zone(g.tenant.timezone), now)
    offices = active_offices()
    hours = public_hours(today)
    closures = coming_closures(now)
    services = online_services()
    return render_template("citizen/home.html", offices=offices, hours=hours, closures=closures,
                           services=services, offline=offline_services(),
                           today=today, emergency_text=localized("emergency"))


def tenant_list():
    rows = listed_tenants()
    db.session.rollback()
    port = request.host.rpartition(":")[2] if ":" in request.host else ""
    base = current_app.config["BASE_DOMAIN"]
    scheme = current_app.config["PUBLIC_URL_SCHEME"]
    links = [(name, f"{scheme}://{slug}.{base}{':' + port if port else ''}/", kind)
             for name, slug, kind in rows]
    return render_template("citizen/tenants.html", tenants=links)


@bp.route("/link", methods=["GET", "POST"], endpoint="lost_link")
@limiter.limit("5 per 10 minutes", methods=["POST"])
def lost_link():
    """"Termin-Link erneut senden": e-mail and booking code in, the manage link by mail out.
    Every answer is the same page, so it never tells whether an address has bookings."""
    if request.method == "POST":
        booking.resend_link(request.form.get("email") or "", request.form.get("code") or "")
        commit()
        return redirect(url_for("citizen.lost_link", sent=1), 303)
    return render_template("citizen/lost_link.html", sent=request.args.get("sent") == "1")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico by themselves; ours is the SVG every page links."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


# --- service page -------------------------------------------------------------------------
# The earliest free slot and the day's starts: one page for every visitor, from the shared
# cache while nothing on it changed (app/scheduling/answers.py); each visitor's CSRF token
# is filled in per answer.
answers.provisional("citizen.service_page")


@bp.get("/services/<slug>")
def service_page(slug: str):
    return answers.shared_page(("month", "day", "lang"), lambda **own: _service_page(slug, **own))


def _service_page(slug: str, **own):
    offline = offline_service(slug)
    if offline is not None:  # offered here, not online: say how to get an appointment
        return render_template("citizen/by_phone.html", service=offline, office=offline.office,
                               hours=public_hours(today_in(zone(g.tenant.timezone), clock.now())),
                               today=today_in(zone(g.tenant.timezone), clock.now()), **own)
    svc = service_or_404(slug)
    policy = Policy.of(g.tenant)
    view = month_view(svc, policy, clock.now(), month_arg=request.args.get("month"),
                      day_arg=request.args.get("day"))
    ctx = {"release": next_release(policy, clock.now()), "fair_draw": draw_announcement(svc, policy, clock.now())}
    if view.proposal is None:
        ctx["last_day"], ctx["reopens"], ctx["opens_on"] = reopening(svc, policy, clock.now())
    return render_template("citizen/service.html", service=svc, office=svc.office, view=view,
                           slot_url=lambda s: book_url(svc, s), page_url=lambda **kw: url_for(
                               "citizen.service_page", slug=svc.slug, **kw),
                           emergency_text=localized("emergency"), privacy=localized("privacy"),
                           form={}, errors={}, addable=visits.Visit.single(svc).addable(g.tenant), **ctx, **own)


# --- booking ------------------------------------------------------------------------------
@bp.route("/book", methods=["GET", "POST"])
@posts_limited
def book():
    visit = visit_or_none(request.values.get("services"))
    svc = visit.first if visit else service_or_404(request.values.get("service"))
    start = parse_start(request.values.get("start"))
    policy = Policy.of(g.tenant)
    demand = visit or svc
    offer_token = request.values.get("offer") or None  # from a waiting-list offer's link
    drawing = draw_running(policy, demand, start, clock.now()) if start is not None else None
    values: dict = {"persons": 1}
    errors: dict[str, str] = {}
    notice = None  # why the chosen start cannot be booked, with `proposal` instead
    proposal: Slot | None = None
    status = 200
    if request.method == "POST":
        values, errors = forms.booking(request.form, None if visit else svc)  # a visit's persons are its counts
        if start is None:
            abort(400)
        proven = True
        try:
            proven = fairness.admit_online(g.tenant, request.form.get("altcha"), may_hold=True)
        except fairness.ProofOfWorkError:
            refusals.refused(g.tenant, "proof_of_work")
            errors["altcha"] = _("Die automatische Prüfung ist abgelaufen oder ungültig. Bitte senden Sie das "
                                 "Formular noch einmal ab.")
        if not errors:
            try:
                appt = booking.book(g.tenant, demand, start, name=values["name"], email=values["email"],
                                    phone=values["phone"], persons=values["persons"], lang=current_lang(),
                                    source="online", hold_until_confirmed=not proven, offer_token=offer_token)
            except booking.DrawOpen as exc:
                entered = _enter_draw(demand, start, values, exc, proven, errors)
                if entered is not None:
                    return entered
                notice = errors.pop("_notice", None)
                proposal = _next(demand, policy) if notice == "invalid" else None
            except booking.DrawPending:
                notice = "draw_pending"
            except booking.SlotTaken as exc:
                notice, proposal = "taken", exc.fresh_proposal()
            except booking.InvalidStart:
                db.session.rollback()
                notice, proposal = "invalid", _next(demand, policy)
            except booking.ActiveBookingLimit as exc:
                _refused_by_cap(exc, errors)
            else:
                token = appt.manage_token
                commit()
                return redirect(url_for("citizen.manage", token=token, booked=1), code=303)
            if notice:
                db.session.rollback()
        status = 422 if errors else 200
    elif start is not None and drawing is not None:
        pass  # a request for this start is an entry in the day's draw (the page says so)
    elif start is not None:
        problem, slot, _offer = booking.online_slot(demand, policy, start, offer_token=offer_token)
        if problem or slot is None:
            notice, proposal = ("invalid" if problem else "taken"), _next(demand, policy)
    else:
        notice, proposal = "invalid", _next(demand, policy)
    if notice and proposal is not None:
        start = proposal.start
    elif notice:
        start = None
    return render_template("citizen/book.html", service=svc, visit=visit, office=svc.office, start=start,
                           proof_of_work=fairness.proof_required(g.tenant),
                           values=values,
                           errors=errors, notice=notice, proposal=proposal, privacy=localized("privacy"),
                           start_iso=local_iso(start) if start else "", offer_token=offer_token,
                           draw_at=drawing[3] if drawing and not notice else None,
                           late=start is not None and clock.now() > booking.deadline_for(g.tenant, start)), status


def _refused_by_cap(exc: booking.ActiveBookingLimit, errors: dict) -> None:
    """A booking or a draw entry refused by the mailbox's or the phone line's cap: counted,
    and said on the field whose cap it is."""
    refusals.refused(g.tenant, f"cap_{exc.cap}")
    if exc.cap == "phone":
        errors["phone"] = _("Mit dieser Telefonnummer sind schon so viele Termine gebucht, wie "
                            "möglich sind (%(n)d). Bitte sagen Sie zuerst einen davon ab oder rufen "
                            "Sie uns an: %(phone)s.", n=exc.limit, phone=g.tenant.contact_phone)
    else:
        errors["email"] = _("Mit dieser E-Mail-Adresse sind schon so viele Termine gebucht, wie möglich "
                            "sind (%(n)d). Bitte sagen Sie zuerst einen davon ab oder rufen Sie uns an: "
                            "%(phone)s.", n=exc.limit, phone=g.tenant.contact_phone)


def _enter_draw(demand, start: datetime, values: dict, drawing: booking.DrawOpen, proven: bool,
                errors: dict) -> Response | None:
    """The start's day is collected for a fair draw: enter the request (the redirect to the
    entry's page), or None with what went wrong in `errors` (`_notice`: a page notice)."""
    if not proven:
        errors["altcha"] = _("Für die Teilnahme an der Verlosung ist die automatische Prüfung nötig. Bitte "
                             "schalten Sie JavaScript ein oder buchen Sie nach der Verlosung einen freien Termin.")
        return None
    visit = demand if isinstance(demand, visits.Visit) else visits.Visit.single(demand, values["persons"])
    try:
        entry = draw.enter(g.tenant, visit, start, drawing,
                           name=values["name"], email=values["email"], phone=values["phone"], lang=current_lang())
    except booking.InvalidStart:
        errors["_notice"] = "invalid"
    except booking.ActiveBookingLimit as exc:
        _refused_by_cap(exc, errors)
    except draw.AlreadyEntered as exc:
        key = "phone" if exc.cap == "phone" else "email"
        errors[key] = (_("Mit dieser Telefonnummer nehmen Sie an dieser Verlosung schon teil.") if key == "phone"
                       else _("Mit dieser E-Mail-Adresse nehmen Sie an dieser Verlosung schon teil."))
    except draw.DrawClosed:
        errors["_notice"] = "draw_pending"
    else:
        token = entry.token
        commit()
        return redirect(url_for("citizen.draw_entry", token=token), code=303)
    db.session.rollback()
    return None


# The token rides in the query string: request logs keep paths, never query strings.
@bp.get("/draw/entry")
def draw_entry():
    entry = draw.entry_by_token(request.args.get("token") or "")
    if entry is None:
        abort(404)
    return render_template("citizen/draw_entry.html", entry=entry, fair_draw=entry.draw, service=entry.draw.service)


def _next(demand, policy: Policy) -> Slot | None:
    return next_slot(demand, policy, now=clock.now())


def visit_or_none(param: str | None) -> visits.Visit | None:
    """The visit a booking link names in `services` (None without one; 404 for one that cannot be booked)."""
    if not param:
        return None
    try:
        return visits.resolve(g.tenant, visits.parse(param))
    except visits.VisitProblem:
        abort(404)


# --- confirmation and management ----------------------------------------------------------
@bp.get("/manage/<token>")
def manage(token: str):
    appt = appointment_or_404(token)
    return render_manage(appt)


def render_manage(appt: Appointment, *, problem: str | None = None, status: int = 200):
    now = clock.now()
    return render_template(
        "citizen/manage.html", appt=appt, service=appt.service, office=appt.office, entrance=appt.entrance,
        visit=visits.Visit.of_appointment(appt),
        movable=booking.may_move_online(g.tenant, appt, now), cancellable=booking.may_cancel_online(appt, now),
        move_until=booking.move_deadline(g.tenant, appt), problem=problem,
        flag=next((f for f in ("booked", "moved", "cancelled", "reconfirmed") if request.args.get(f)), None),
        reconfirm_pending=reconfirm.pending(appt),
    ), status


@bp.get("/manage/<token>/termin.ics")
def manage_ics(token: str):
    appt = appointment_or_404(token)
    return Response(calendar_file(g.tenant, appt, current_lang()), mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="termin.ics"'})


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@posts_limited
def cancel(token: str):
    appt = appointment_or_404(token)
    if request.method == "GET":
        if appt.status != "booked":
            return redirect(url_for("citizen.manage", token=token))
        return render_template("citizen/cancel.html", appt=appt, service=appt.service, office=appt.office,
                               visit=visits.Visit.of_appointment(appt),
                               started=not booking.may_cancel_online(appt, clock.now()))
    try:
        booking.cancel(g.tenant, appt)
    except booking.AlreadyStarted:
        db.session.rollback()
        return render_manage(appt, problem="started", status=422)
    except booking.NotActive:
        db.session.rollback()
        return render_manage(appt, problem="inactive", status=422)
    commit()
    return redirect(url_for("citizen.manage", token=token, cancelled=1), code=303)


@bp.route("/manage/<token>/reconfirm", methods=["GET", "POST"], endpoint="reconfirm")
@posts_limited
def reconfirm_page(token: str):
    """"Kommen Sie?": a page with the one button "Ja, ich komme" (and the way to cancel).
    Only the POST answers: mail scanners open the link from the mail first."""
    appt = appointment_or_404(token)
    if request.method == "GET":
        if not reconfirm.pending(appt):
            return redirect(url_for("citizen.manage", token=token))
        return render_template("citizen/reconfirm.html", appt=appt, service=appt.service, office=appt.office,
                               visit=visits.Visit.of_appointment(appt),
                               until=reconfirm.answer_deadline(g.tenant, appt))
    answered = reconfirm.confirm(appt, clock.now())
    commit()
    return redirect(url_for("citizen.manage", token=token, **({"reconfirmed": 1} if answered else {})), code=303)


@bp.route("/manage/<token>/move", methods=["GET", "POST"])
@posts_limited
def move(token: str):
    appt = appointment_or_404(token)
    svc = appt.service
    visit = visits.Visit.of_appointment(appt)  # the whole visit moves
    policy = Policy.of(g.tenant)
    now = clock.now()
    if appt.status != "booked":
        return redirect(url_for("citizen.manage", token=token))
    if not booking.may_move_online(g.tenant, appt, now):
        return render_manage(appt, problem="deadline", status=422 if request.method == "POST" else 200)
    start = parse_start(request.values.get("start"))
    notice = None
    if request.method == "POST":
        if start is None:
            abort(400)
        try:
            booking.move(g.tenant, appt, start)
        except booking.DeadlinePassed:
            db.session.rollback()
            return render_manage(appt, problem="deadline", status=422)
        except (booking.SlotTaken, booking.InvalidStart) as exc:
            db.session.rollback()
            notice = "taken"
            proposal = exc.fresh_proposal() if isinstance(exc, booking.SlotTaken) else None
            start = proposal.start if proposal else None
        else:
            commit()
            return redirect(url_for("citizen.manage", token=token, moved=1), code=303)
    elif start is not None:
        problem, slot = slot_at(visit, policy, start, now=now, exclude_appointment_id=appt.id)
        if problem or slot is None:
            notice, start = "taken", None
    view = month_view(visit, policy, now, month_arg=request.args.get("month"), day_arg=request.args.get("day"),
                      exclude_appointment_id=appt.id)
    if notice == "taken" and start is None and view.proposal is not None:
        start = view.proposal.start
    return render_template(
        "citizen/move.html", appt=appt, service=svc, visit=visit, office=appt.office, view=view, start=start,
        notice=notice,
        start_iso=local_iso(start) if start else "",
        slot_url=lambda s: url_for("citizen.move", token=token, start=local_iso(s.start)),
        page_url=lambda **kw: url_for("citizen.move", token=token, **kw),
    )


# --- calendar full: emergency request and waiting list ------------------------------------
@bp.route("/emergency", methods=["GET", "POST"])
@posts_limited
def emergency():
    slug = request.values.get("service") or ""
    svc = online_service(slug)
    values: dict = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = forms.emergency(request.form)
        if not errors:
            emergencies.submit(svc, name=values["name"], email=values["email"], phone=values["phone"],
                               reason=values["reason"], lang=current_lang())
            commit()
            return redirect(url_for("citizen.emergency_sent", **({"service": svc.slug} if svc else {})), code=303)
    return render_template("citizen/emergency.html", service=svc, form=values, errors=errors,
                           emergency_text=localized("emergency"), privacy=localized("privacy")), \
        (422 if errors else 200)


@bp.get("/emergency/sent")
def emergency_sent():
    return render_template("citizen/sent.html", kind="emergency")


@bp.post("/waitlist")
@posts_limited
def waitlist_join():
    svc = service_or_404(request.form.get("service"))
    values, errors = forms.waitlist(request.form)
    if errors:
        policy = Policy.of(g.tenant)
        view = month_view(svc, policy, clock.now())
        last_day, reopens, opens_on = reopening(svc, policy, clock.now())
        return render_template("citizen/service.html", service=svc, office=svc.office, view=view,
                               slot_url=lambda s: book_url(svc, s),
                               page_url=lambda **kw: url_for("citizen.service_page", slug=svc.slug, **kw),
                               emergency_text=localized("emergency"), privacy=localized("privacy"),
                               form=values, errors=errors, last_day=last_day, reopens=reopens,
                               opens_on=opens_on), 422
    entry = waitlist.join(svc, name=values["name"], email=values["email"], lang=current_lang(),
                          weekdays=values["weekdays"], daypart=values["daypart"],
                          date_from=values["date_from"], date_until=values["date_until"])
    token = entry.token
    commit()
    return redirect(url_for("citizen.waitlist_entry", token=token), code=303)


# The token rides in the query string: request logs keep paths, never query strings.
@bp.route("/waitlist/entry", methods=["GET", "POST"])
@posts_limited
def waitlist_entry():
    token = request.args.get("token") or ""
    entry = waitlist.entry_by_token(token)
    if entry is None:
        abort(404)
    if request.method == "POST":
        waitlist.withdraw(entry)
        commit()
        return redirect(url_for("citizen.waitlist_entry", token=token), code=303)
    return render_template("citizen/waitlist.html", entry=entry, service=entry.service)



# --- template helpers (also for the error page) -------------------------------------------
def lang_url(code: str) -> str:
    """This page in another language (GET; the choice is remembered in a cookie)."""
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"


def lang_of(value) -> Markup:
    """` lang="de"` on tenant data (German) shown on an English page (WCAG 3.1.2)."""
    if isinstance(value, (list, tuple)):  # a list of a town's texts: all in one language
        value = value[0] if value else ""
    lang = getattr(value, "lang", "de")
    return Markup(f' lang="{lang}"') if lang != current_lang() else Markup("")


def to_local(dt: datetime) -> datetime:
    tenant = g.get("tenant")
    return dt.astimezone(zone(tenant.timezone if tenant else "Europe/Berlin"))


@bp.app_context_processor
def _page_helpers() -> dict:
    return {"lang_url": lang_url, "day_text": fmt.day_text, "weekday_text": fmt.weekday_text,
            "month_text": fmt.month_text, "time_text": fmt.time_text, "short_weekdays": fmt.short_weekdays,
            "to_local": to_local, "lang_of": lang_of}
