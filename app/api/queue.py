"""GET /api/v1/offices/{slug}/queue (CONTRACT §5.2): the waiting room's state for a
town's website and the screen; ticket numbers and counter names only, never a name."""
from __future__ import annotations

from flask import g, jsonify

from app import clock
from app.api import bp
from app.problems import ApiProblem
from app.api.views import iso, office_ref, reads
from app.offices.models import Office
from app.queue import operations as queue


def board_json(board: queue.Board) -> dict:
    return {
        "office": office_ref(board.office),
        "open": board.open,
        "waiting": board.waiting,
        "estimated_wait_minutes": board.estimated_wait_minutes,
        "called": [{"ticket": ticket, "counter": counter, "at": iso(at)} for ticket, counter, at in board.called],
        "updated_at": iso(board.updated_at),
    }


def queue_office_or_404(slug: str) -> Office:
    office = queue.queue_office(slug)
    if office is None:
        raise ApiProblem(404, "Not found", f"There is no office '{slug}' keeping a queue here.",
                         type_="unknown-office")
    return office


def current_board(office: Office) -> queue.Board:
    now = clock.now()
    return queue.board(g.tenant, office, now, is_open=queue.is_open(g.tenant, office, now))


@bp.get("/offices/<slug>/queue")
@reads
def office_queue(slug: str):
    return jsonify(board_json(current_board(queue_office_or_404(slug))))
