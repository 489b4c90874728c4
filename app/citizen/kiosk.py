"""The kiosk at the entrance: a tablet opens the signed link an admin made for one
office (no citizen login). Check in with the booking code (typed, or the QR code read by
the kiosk's scanner, which types it), or draw a walk-in ticket; the ticket can be printed."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from app import clock
from app.citizen import bp
from app.citizen.views import to_local
from app.extensions import db
from app.mail import qr
from app.queue import kiosk as kiosk_links
from app.queue import operations as queue
from app.queue.messages import describe
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
    try:
        entry = queue.check_in_by_code(g.tenant, office, request.form.get("code", ""), clock.now())
    except queue.QueueError as err:
        db.session.rollback()
        return _page(token, office, error=describe(err, to_local=to_local), status=422)
    commit()
    return redirect(url_for("citizen.kiosk_ticket", token=token, entry_id=entry.id), code=303)


@bp.post("/kiosk/<token>/ticket")
def kiosk_draw(token: str):
    office = _office(token)
    try:
        service = queue.walk_in_service(office, slug=request.form.get("service", ""))
        entry = queue.draw_ticket(g.tenant, office, service, clock.now())
    except queue.QueueError as err:
        db.session.rollback()
        return _page(token, office, error=describe(err), status=422)
    commit()
    return redirect(url_for("citizen.kiosk_ticket", token=token, entry_id=entry.id), code=303)


@bp.get("/kiosk/<token>/tickets/<int:entry_id>")
def kiosk_ticket(token: str, entry_id: int):
    office = _office(token)
    entry = queue.todays_entry(g.tenant, office, entry_id, clock.now())
    if entry is None:
        abort(404)
    return render_template("queue/ticket.html", token=token, office=office, entry=entry,
                           board=queue.board(g.tenant, office, clock.now(), is_open=True))
