"""The queue of emergency requests: answer with an appointment or a reply mail."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app.backoffice import bp
from app.backoffice.access import audit, one_or_404, role_required
from app.backoffice.common import local
from app.booking.models import EmergencyRequest
from app.extensions import db
from app.mail.outbox import queue_message
from app.transaction import commit

MAX_REPLY = 5000


@bp.route("/emergencies")
@role_required("staff")
def emergencies():
    show = request.args.get("show", "open")
    q = select(EmergencyRequest).order_by(EmergencyRequest.created_at)
    if show == "open":
        q = q.where(EmergencyRequest.status == "open")
    else:
        q = q.order_by(None).order_by(EmergencyRequest.created_at.desc()).limit(200)
    return render_template("backoffice/emergencies.html", rows=list(db.session.scalars(q)), show=show, local=local)


@bp.route("/emergencies/<int:request_id>/reply", methods=["POST"])
@role_required("staff")
def emergency_reply(request_id: int):
    row = one_or_404(EmergencyRequest, request_id)
    text = (request.form.get("answer") or "").strip()
    if not text or len(text) > MAX_REPLY:
        flash(f"Bitte eine Antwort mit 1 bis {MAX_REPLY} Zeichen schreiben.", "error")
        return redirect(url_for("backoffice.emergencies"))
    if not row.email:
        flash("Diese Anfrage hat keine E-Mail-Adresse; bitte telefonisch antworten.", "error")
        return redirect(url_for("backoffice.emergencies"))
    before = {"status": row.status}
    en = row.lang == "en"
    greeting = f"Hello {row.name}," if en else f"Guten Tag {row.name},"
    closing = "Kind regards" if en else "Mit freundlichen Grüßen"
    body = f"{greeting}\n\n{text}\n\n{closing}\n{g.tenant.name}\n{g.tenant.contact_phone}"
    subject = ("Your emergency request" if en else "Ihre Notfallanfrage") + f" – {g.tenant.name}"
    queue_message(g.tenant.id, "emergency_reply", row.email, subject, body, lang="en" if en else "de")
    row.status = "answered"
    row.answer = text
    row.answered_at = datetime.now(timezone.utc)
    audit("emergency_request_answered", "emergency_request", row.id, before=before, after={"status": "answered"})
    commit()
    flash("Antwort verschickt.")
    return redirect(url_for("backoffice.emergencies"))


@bp.route("/emergencies/<int:request_id>/close", methods=["POST"])
@role_required("staff")
def emergency_close(request_id: int):
    row = one_or_404(EmergencyRequest, request_id)
    before = {"status": row.status}
    row.status = "closed"
    audit("emergency_request_closed", "emergency_request", row.id, before=before, after={"status": "closed"})
    commit()
    flash("Anfrage geschlossen.")
    return redirect(url_for("backoffice.emergencies"))
