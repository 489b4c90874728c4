"""The day: appointments per office and counter, check-in, completed, no-show."""
from __future__ import annotations

from collections import Counter as Tally
from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.backoffice import bp
from app import clock
from app.backoffice.access import audited_redirect, one_or_404, role_required
from app.backoffice.common import local, parse_day, today
from app.booking import service as booking
from app.booking import staff
from app.booking.codes import by_code
from app.booking.models import Appointment
from app.catalog.visits import Visit
from app.extensions import db
from app.offices.operations import active_offices, counters_of
from app.queue import operations as queue
from app.queue.messages import describe
from app.validators import parse_start


def _day_data(day, office):
    appts = staff.day_appointments(g.tenant, office, day)
    counters = counters_of(office.id)
    by_counter = {c.id: [] for c in counters}
    for a in appts:
        by_counter.setdefault(a.counter_id, []).append(a)
    counts = Tally(a.status for a in appts)
    return counters, by_counter, counts, appts


# How often the day view reloads itself (seconds): new bookings, check-ins at the kiosk.
REFRESH_SECONDS = 60


def _office_from_args():
    all_offices = active_offices()
    if not all_offices:
        abort(404)
    slug = request.args.get("office")
    office = next((o for o in all_offices if o.slug == slug), all_offices[0])
    return office, all_offices


@bp.route("/day")
@role_required("staff")
def day():
    the_day = parse_day(request.args.get("date"), today())
    if the_day is None:
        flash("Das Datum ist ungültig; angezeigt wird heute.", "error")
        the_day = today()
    office, all_offices = _office_from_args()
    counters, by_counter, counts, appts = _day_data(the_day, office)
    per_counter = request.args.get("by") == "counter"
    now = clock.now()
    return render_template("backoffice/day.html", day=the_day, office=office, offices=all_offices,
                           counters=counters, by_counter=by_counter, counts=counts, total=len(appts),
                           appts=appts, per_counter=per_counter, refresh=REFRESH_SECONDS,
                           counter_names={c.id: c.name for c in counters},
                           prev_day=the_day - timedelta(days=1), next_day=the_day + timedelta(days=1),
                           local=local, actions=lambda a: staff.allowed_transitions(a, now),
                           action_labels=staff.ACTION_LABELS, status_labels=staff.STATUS_LABELS,
                           source_labels=staff.SOURCE_LABELS)


@bp.route("/day/print")
@role_required("staff")
def day_print():
    the_day = parse_day(request.args.get("date"), today()) or today()
    office, _ = _office_from_args()
    counters, by_counter, counts, appts = _day_data(the_day, office)
    return render_template("backoffice/day_print.html", day=the_day, office=office, counters=counters,
                           by_counter=by_counter, counts=counts, total=len(appts), local=local,
                           per_counter=True, counter_names={c.id: c.name for c in counters},
                           status_labels=staff.STATUS_LABELS, source_labels=staff.SOURCE_LABELS)


@bp.route("/appointments/<int:appt_id>")
@role_required("staff")
def appointment(appt_id: int):
    appt = one_or_404(Appointment, appt_id)
    return render_template("backoffice/appointment.html", appt=appt, local=local,
                           visit_documents=lambda a: Visit.of_appointment(a).documents(),
                           status_labels=staff.STATUS_LABELS, source_labels=staff.SOURCE_LABELS)


@bp.route("/find")
@role_required("staff")
def find():
    """By booking code, as a caller reads it out."""
    appt = by_code(Appointment.code, request.args.get("code"))
    if appt is None:
        abort(404)
    return redirect(url_for("backoffice.appointment", appt_id=appt.id))


@bp.route("/appointments/<int:appt_id>/status", methods=["POST"])
@role_required("staff")
def set_status(appt_id: int):
    appt = one_or_404(Appointment, appt_id)
    before = staff.snapshot(appt)
    back = (url_for("backoffice.day", date=local(appt.starts_at).date().isoformat(), office=appt.office.slug)
            + f"#a{appt.id}")
    wanted = request.form.get("status", "")
    try:
        queue.record_status(g.tenant, appt, wanted, clock.now())
    except (staff.StaffError, queue.QueueError) as exc:
        db.session.rollback()
        flash(describe(exc, to_local=local) if isinstance(exc, queue.QueueError) else str(exc), "error")
        return redirect(back)
    return audited_redirect(back, "appointment_status", "appointment", appt.id,
                            f"Termin {appt.code}: {_(staff.STATUS_LABELS[appt.status])}.",
                            before=before, after=staff.snapshot(appt))


@bp.route("/appointments/<int:appt_id>/cancel", methods=["POST"])
@role_required("staff")
def cancel(appt_id: int):
    """A clerk cancels one appointment; the citizen is told why and offered a new one."""
    appt = one_or_404(Appointment, appt_id)
    reason = (request.form.get("reason") or "").strip()
    before = staff.snapshot(appt)
    try:
        if not staff.cancel_by_office(g.tenant, appt, reason):
            flash("Dieser Termin war schon abgesagt.")
            return redirect(url_for("backoffice.appointment", appt_id=appt_id))
    except staff.StaffError as exc:
        flash(str(exc), "error")
        return redirect(url_for("backoffice.appointment", appt_id=appt.id))
    except booking.NotActive:
        db.session.rollback()
        flash("Dieser Termin ist nicht mehr aktiv.", "error")
        return redirect(url_for("backoffice.appointment", appt_id=appt_id))
    return audited_redirect(url_for("backoffice.appointment", appt_id=appt.id), "appointment_cancelled_by_office",
                            "appointment", appt.id,
                            f"Termin {appt.code} abgesagt" + (" und per E-Mail benachrichtigt." if appt.email else
                                                              "; bitte telefonisch benachrichtigen."),
                            before=before, after=staff.snapshot(appt) | {"reason": reason})


@bp.route("/appointments/<int:appt_id>/move", methods=["GET", "POST"])
@role_required("staff")
def move(appt_id: int):
    """A clerk moves a booking (a caller asks for another time): free starts are proposed."""
    appt = one_or_404(Appointment, appt_id)
    if request.method == "POST":
        before = staff.snapshot(appt)
        start = parse_start(request.form.get("start"))
        try:
            if start is None:
                raise staff.StaffError("Bitte eine der freien Zeiten wählen.")
            staff.move_for_citizen(g.tenant, appt, start)
        except staff.StaffError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("backoffice.move", appt_id=appt_id))
        when = local(appt.starts_at)
        return audited_redirect(url_for("backoffice.appointment", appt_id=appt.id), "appointment_moved_by_office",
                                "appointment", appt.id,
                                f"Termin {appt.code} verschoben auf {when:%d.%m.%Y, %H:%M} Uhr"
                                + (", die Bürgerin oder der Bürger erhält eine E-Mail." if appt.email else
                                   "; bitte telefonisch Bescheid geben."),
                                before=before, after=staff.snapshot(appt))
    proposals = staff.move_proposals(g.tenant, appt) if appt.status == "booked" else []
    return render_template("backoffice/appointment_move.html", appt=appt, proposals=proposals, local=local)


@bp.route("/appointments/<int:appt_id>/resend", methods=["POST"])
@role_required("staff")
def resend(appt_id: int):
    """„Bestätigung erneut senden“: the confirmation mail once more, audited."""
    appt = one_or_404(Appointment, appt_id)
    back = url_for("backoffice.appointment", appt_id=appt.id)
    try:
        staff.resend_confirmation(appt)
    except staff.StaffError as exc:
        flash(str(exc), "error")
        return redirect(back)
    return audited_redirect(back, "confirmation_resent", "appointment", appt.id,
                            f"Die Bestätigung für {appt.code} ist erneut an {appt.email} gesendet.",
                            after=staff.snapshot(appt))
