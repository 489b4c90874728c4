"""Block time or close a day: shows whom it hits, then cancels with a notification."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audit, parse_int, role_required
from app.backoffice.common import counters_of, local, offices, parse_day, parse_time, today
from app.booking import staff
from app.transaction import commit


def _block_from(form):
    all_offices = offices()
    office = next((o for o in all_offices if o.id == parse_int(form.get("office"))), None)
    if office is None:
        raise staff.StaffError("Bitte ein Büro wählen.")
    counter = None
    if form.get("counter"):
        counter = next((c for c in counters_of(office.id) if c.id == parse_int(form.get("counter"))), None)
        if counter is None:
            raise staff.StaffError("Dieser Schalter gehört nicht zu diesem Büro.")
    day = parse_day(form.get("date"))
    if day is None:
        raise staff.StaffError("Bitte ein gültiges Datum angeben.")
    if day < today():
        raise staff.StaffError("Vergangene Tage können nicht gesperrt werden.")
    whole_day = form.get("whole_day") == "1"
    opens, closes = (None, None) if whole_day else (parse_time(form.get("from")), parse_time(form.get("to")))
    if not whole_day and (opens is None or closes is None):
        raise staff.StaffError("Bitte Beginn und Ende angeben oder „ganzer Tag“ wählen.")
    return staff.make_block(g.tenant, office, counter, day, opens, closes, form.get("reason", ""))


@bp.route("/block", methods=["GET", "POST"])
@role_required("staff")
def block():
    form = request.form if request.method == "POST" else request.args
    ctx = {"offices": offices(), "form": form, "local": local, "counters_of": counters_of}
    if request.method == "GET":
        return render_template("backoffice/block.html", **ctx)
    try:
        blk = _block_from(form)
    except staff.StaffError as exc:
        return render_template("backoffice/block.html", error=str(exc), **ctx), 422
    hits = staff.affected(blk)
    if form.get("confirm") != "1":
        return render_template("backoffice/block.html", preview=blk, hits=hits, **ctx)
    closure, cancelled = staff.apply_block(g.tenant, blk)
    audit("time_blocked", "closure", closure.id, after={
        "office_id": blk.office.id, "counter_id": blk.counter.id if blk.counter else None,
        "starts_at": blk.starts_at.isoformat(), "ends_at": blk.ends_at.isoformat(), "reason": blk.reason,
        "cancelled": [a.code for a in cancelled]})
    for appt in cancelled:
        audit("appointment_cancelled_by_office", "appointment", appt.id,
              before={"status": "booked"}, after=staff.snapshot(appt) | {"reason": blk.reason})
    commit()
    notified = sum(1 for a in cancelled if a.email)
    flash(f"Gesperrt. {len(cancelled)} Termin(e) abgesagt, {notified} per E-Mail benachrichtigt"
          + (f"; {len(cancelled) - notified} ohne E-Mail bitte anrufen." if len(cancelled) > notified else "."))
    return redirect(url_for("backoffice.day", date=local(blk.starts_at).date().isoformat(), office=blk.office.slug))
