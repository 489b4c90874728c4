"""The waiting room's screen: the last calls (ticket → counter) in large type.

The page fetches `…/screen/changes`, which answers as soon as the office's queue
changed (PostgreSQL NOTIFY from any web process; polling on SQLite) or after
LONG_POLL_SECONDS with nothing new; when that fails the page falls back to asking
GET /api/v1/offices/{slug}/queue every two seconds. Without JavaScript it reloads itself.
No name is ever shown."""
from __future__ import annotations

from flask import abort, g, jsonify, render_template, request

from app import clock
from app.api.queue import board_json, current_board
from app.citizen import bp
from app.extensions import db
from app.offices.models import Office
from app.queue import operations as queue
from app.queue import signal

LONG_POLL_SECONDS = 20.0


def _office_or_404(slug: str) -> Office:
    office = queue.queue_office(slug)
    if office is None:
        abort(404)
    return office


def _version(office_id: int) -> str:
    office = db.session.get(Office, office_id)
    value = queue.version(office, queue.local_day(g.tenant, clock.now()))
    db.session.rollback()  # no snapshot held while the request waits
    return value


@bp.get("/offices/<slug>/screen")
def queue_screen(slug: str):
    office = _office_or_404(slug)
    board = current_board(office)
    return render_template("queue/screen.html", office=office, board=board, version=_version(office.id))


@bp.get("/offices/<slug>/screen/changes")
def queue_screen_changes(slug: str):
    office_id = _office_or_404(slug).id
    seen = request.args.get("seen", "")[:200]
    signal.wait_for_change(g.tenant.id, office_id, lambda: _version(office_id), seen, LONG_POLL_SECONDS)
    office = db.session.get(Office, office_id)
    version = _version(office_id)
    response = jsonify({"version": version, "queue": board_json(current_board(office))})
    response.headers["Cache-Control"] = "no-store"
    return response
