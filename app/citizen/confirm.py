"""The page behind the link of a confirm-by-e-mail mail: GET shows the held appointment
and a button (mail scanners that prefetch links confirm nothing), POST confirms."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from app import clock
from app.booking import holds
from app.booking.service import find_by_token
from app.scheduling.calendar import zone
from app.transaction import commit

bp = Blueprint("confirm", __name__)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    appt = find_by_token(token)
    if appt is None:
        abort(404)
    if request.method == "POST":
        try:
            holds.confirm(appt, clock.now())
        except holds.HoldExpired:
            return render_template("confirm.html", appt=appt, expired=True, local=_local), 410
        commit()
        return redirect(url_for("citizen.manage", token=token), code=303)
    expired = holds.lapsed(appt, clock.now())
    if appt.hold_expires_at is None and not expired:
        return redirect(url_for("citizen.manage", token=token))
    return render_template("confirm.html", appt=appt, expired=expired, local=_local), (410 if expired else 200)


def _local(dt):
    return dt.astimezone(zone(g.tenant.timezone))
