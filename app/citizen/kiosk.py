"""The kiosk at the entrance: a tablet opens the signed link an admin made for one
office (no citizen login). Check in with the booking code (typed, or the QR code read by
the kiosk's scanner, which types it), or draw a walk-in ticket; the ticket can be printed."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.catalog.models import Service
from app.citizen import bp
from app.citizen.views import to_local
from app.extensions import db
from app.mail import qr
from app.queue import kiosk as kiosk_links
from app.queue import operations as queue
from app.queue.messages import describe
from app.queue.models import QueueEntry
from app.transaction import commit


def _office(token: str):
    office = kiosk_links.office_of_token(token, g.tenant.id)
    if office is None:
        abort(404)
    return office


def _page(token, office, *, error: str = "", status: int = 200):
    offers = queue.walk_in_offers(office, queue.local_day(g.tenant, clock.now()))
    return render_template("queue/kiosk.html", token=token, office=office, offers=offers, error=error,
                           code=request.form.get("code", "")), status


@bp.app_context_processor
def _check_in_qr() -> dict:
    """`checkin_qr(code, title)`: the QR code of a booking code, for the confirmation page."""
    return {"checkin_qr": lambda code, title: qr.svg(code, title=title)}


@bp.get("/kiosk/<token>")
def kiosk(token: str):
    return _page(token, _office(token))


@bp.post("/kiosk/<token>/check-in")
def kiosk_check_in(token: str):
    office = _office(token)
    now = clock.now()
    appt = queue.find_appointment(request.form.get("code", ""))
    try:
        if appt is None or appt.office_id != office.id:
            raise queue.QueueError("not_found")
        entry = queue.check_in(g.tenant, appt, now)
    except queue.QueueError as err:
        db.session.rollback()
        return _page(token, office, error=describe(err, to_local=to_local), status=422)
    commit()
    return redirect(url_for("citizen.kiosk_ticket", token=token, entry_id=entry.id), code=303)


@bp.post("/kiosk/<token>/ticket")
def kiosk_draw(token: str):
    office = _office(token)
    service = db.session.scalar(select(Service).where(Service.slug == request.form.get("service", ""),
                                                      Service.office_id == office.id))
    try:
        if service is None:
            raise queue.QueueError("unknown_service")
        entry = queue.draw_ticket(g.tenant, office, service, clock.now())
    except queue.QueueError as err:
        db.session.rollback()
        return _page(token, office, error=describe(err), status=422)
    commit()
    return redirect(url_for("citizen.kiosk_ticket", token=token, entry_id=entry.id), code=303)


@bp.get("/kiosk/<token>/tickets/<int:entry_id>")
def kiosk_ticket(token: str, entry_id: int):
    office = _office(token)
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or entry.office_id != office.id or entry.day != queue.local_day(g.tenant, clock.now()):
        abort(404)
    return render_template("queue/ticket.html", token=token, office=office, entry=entry,
                           board=queue.board(g.tenant, office, clock.now(), is_open=True))
