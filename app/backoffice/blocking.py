"""Block time or close a day: shows whom it hits, then cancels with a notification."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audit, parse_int, role_required
from app.backoffice.common import local, parse_day, parse_time
from app.booking import staff
from app.offices.operations import active_offices, counter_in, counters_of
from app.transaction import commit


def _block_from(form):
    all_offices = active_offices()
    office = next((o for o in all_offices if o.id == parse_int(form.get("office"))), None)
    if office is None:
        raise staff.StaffError("Bitte ein Büro wählen.")
    counter = None
    if form.get("counter"):
        counter = counter_in(office.id, parse_int(form.get("counter")))
        if counter is None:
            raise staff.StaffError("Dieser Schalter gehört nicht zu diesem Büro.")
    day = parse_day(form.get("date"))
    if day is None:
        raise staff.StaffError("Bitte ein gültiges Datum angeben.")
    until = parse_day(form.get("until")) if form.get("until") else day
    if until is None:
        raise staff.StaffError("Bitte ein gültiges Datum für den letzten Tag angeben.")
    whole_day = form.get("whole_day") == "1"
    opens, closes = (None, None) if whole_day else (parse_time(form.get("from")), parse_time(form.get("to")))
    if not whole_day and (opens is None or closes is None):
        raise staff.StaffError("Bitte Beginn und Ende angeben oder „ganzer Tag“ wählen.")
    return staff.make_block(g.tenant, office, counter, day, opens, closes, form.get("reason", ""), until=until)


@bp.route("/block", methods=["GET", "POST"])
@role_required("staff")
def block():
    form = request.form if request.method == "POST" else request.args
    ctx = {"offices": active_offices(), "form": form, "local": local, "counters_of": counters_of}
    if request.method == "GET":
        return render_template("backoffice/block.html", **ctx)
    try:
        blk = _block_from(form)
    except staff.StaffError as exc:
        return render_template("backoffice/block.html", error=str(exc), **ctx), 422
    if form.get("confirm") != "1":
        plan = staff.placement(g.tenant, blk)
        return render_template("backoffice/block.html", preview=blk, moves=[(a, c) for a, c in plan if c],
                               hits=[a for a, c in plan if c is None], **ctx)
    before = {a.id: staff.snapshot(a) for a in staff.affected(blk)}
    closure, moved, cancelled = staff.apply_block(g.tenant, blk)
    audit("time_blocked", "closure", closure.id, after={
        "office_id": blk.office.id, "counter_id": blk.counter.id if blk.counter else None,
        "starts_at": blk.starts_at.isoformat(), "ends_at": blk.ends_at.isoformat(), "reason": blk.reason,
        "moved": [a.code for a in moved], "cancelled": [a.code for a in cancelled]})
    for appt in moved:
        audit("appointment_moved_by_office", "appointment", appt.id, before=before[appt.id],
              after=staff.snapshot(appt))
    for appt in cancelled:
        audit("appointment_cancelled_by_office", "appointment", appt.id,
              before=before[appt.id], after=staff.snapshot(appt) | {"reason": blk.reason})
    commit()
    notified = sum(1 for a in cancelled if a.email)
    flash(f"Gesperrt. {len(moved)} Termin(e) an einen anderen Schalter verlegt, {len(cancelled)} abgesagt, "
          f"{notified} per E-Mail benachrichtigt"
          + (f"; {len(cancelled) - notified} ohne E-Mail bitte anrufen." if len(cancelled) > notified else "."))
    return redirect(url_for("backoffice.day", date=local(blk.starts_at).date().isoformat(), office=blk.office.slug))
