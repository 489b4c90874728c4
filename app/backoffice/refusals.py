"""Refused online bookings per day (issue 16 point 6): how hard scripts press on the
calendar, for staff. Counters only (app/booking/refusals.py), never an address."""
from __future__ import annotations

from flask import g, render_template

from app.backoffice import bp
from app.backoffice.access import role_required
from app.booking.refusals import daily_refusals

DAYS = 14


@bp.route("/refusals")
@role_required("staff")
def refusals():
    return render_template("backoffice/refusals.html", days=daily_refusals(g.tenant, DAYS), span=DAYS)
