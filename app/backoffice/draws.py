"""Fair draws (issue 16): each draw's seed, entries and assignment, and the re-check that
the recorded order follows from the seed, so the office can show a draw was fair.
Booking codes and entry numbers only, no citizen's name or address."""
from __future__ import annotations

from flask import render_template

from app.backoffice import bp
from app.backoffice.access import one_or_404, role_required
from app.booking import draw
from app.booking.models import FairDraw


@bp.route("/draws")
@role_required("staff")
def draws():
    return render_template("backoffice/draws.html", draws=draw.recent_draws())


@bp.route("/draws/<int:draw_id>")
@role_required("staff")
def draw_detail(draw_id: int):
    fair_draw = one_or_404(FairDraw, draw_id)
    return render_template("backoffice/draw.html", d=fair_draw, rows=draw.ranking_with_lots(fair_draw),
                           verified=draw.verify(fair_draw))
