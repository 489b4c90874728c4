"""The queue of emergency requests: answer with an appointment or a reply mail."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from app.backoffice import bp
from app.backoffice.access import audited_redirect, one_or_404, role_required
from app.backoffice.common import local
from app.booking import emergencies as emergency_requests
from app.booking.models import EmergencyRequest


@bp.route("/emergencies")
@role_required("staff")
def emergencies():
    show = request.args.get("show", "open")
    return render_template("backoffice/emergencies.html", rows=emergency_requests.listing(show), show=show,
                           local=local)


@bp.route("/emergencies/<int:request_id>/reply", methods=["POST"])
@role_required("staff")
def emergency_reply(request_id: int):
    row = one_or_404(EmergencyRequest, request_id)
    try:
        before = emergency_requests.answer(row, request.form.get("answer") or "")
    except emergency_requests.ReplyRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("backoffice.emergencies"))
    return audited_redirect(url_for("backoffice.emergencies"), "emergency_request_answered", "emergency_request",
                            row.id, "Antwort verschickt.", before=before, after={"status": "answered"})


@bp.route("/emergencies/<int:request_id>/close", methods=["POST"])
@role_required("staff")
def emergency_close(request_id: int):
    row = one_or_404(EmergencyRequest, request_id)
    before = emergency_requests.close(row)
    return audited_redirect(url_for("backoffice.emergencies"), "emergency_request_closed", "emergency_request",
                            row.id, "Anfrage geschlossen.", before=before, after={"status": "closed"})
