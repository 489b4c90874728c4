"""The office's queue in the back office: the clerk's workstation ("Nächste Person
aufrufen" and what follows), the front desk (check in, draw a ticket for someone) and
the admin's set-up (queue on or off, walk-in quotas, kiosk links)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app import clock
from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, one_or_404, parse_int, role_required
from app.backoffice.common import local
from app.extensions import db
from app.offices.operations import active_offices, counters_of
from app.offices.models import Counter, Office
from app.queue import kiosk as kiosk_links
from app.queue import operations as queue
from app.queue.messages import describe
from app.queue.models import QueueEntry
from app.transaction import commit
from app.urls import tenant_url

KIND_LABELS = {"appointment": "Termin", "walk_in": "ohne Termin"}


def _queue_offices() -> list[Office]:
    return [o for o in active_offices() if queue.queue_of(o) is not None]


def _chosen_counter(all_offices: list[Office]) -> Counter | None:
    """The counter the clerk works at: from the form, else remembered in the session."""
    wanted = parse_int(request.args.get("counter")) or session.get("queue_counter")
    office_ids = {o.id for o in all_offices}
    c = db.session.get(Counter, wanted) if wanted else None
    if c is None or c.office_id not in office_ids:
        return None
    session["queue_counter"] = c.id
    return c


@bp.route("/queue")
@role_required("staff")
def queue_workstation():
    all_offices = _queue_offices()
    if not all_offices:
        return render_template("backoffice/queue_off.html")
    desk = _chosen_counter(all_offices)
    now = clock.now()
    choices = [(o, counters_of(o.id)) for o in all_offices]
    if desk is None:
        return render_template("backoffice/queue_workstation.html", desk=None, choices=choices)
    office = desk.office
    current = queue.current_at(desk)
    mine = queue.waiting(g.tenant, office, now, desk)
    waiting_total = queue.waiting_count(g.tenant, office, now)
    parked = queue.parked(g.tenant, office, now)
    return render_template("backoffice/queue_workstation.html", desk=desk, office=office, choices=choices,
                           current=current, mine=mine, waiting_total=waiting_total, parked=parked,
                           counters=[c for c in counters_of(office.id) if c.active and c.id != desk.id],
                           other_offices=[o for o in all_offices if o.id != office.id], local=local,
                           kinds=KIND_LABELS, now=now)


def _entry(entry_id: int) -> QueueEntry:
    entry = one_or_404(QueueEntry, entry_id)
    return entry


def _desk_or_400() -> Counter:
    desk = db.session.get(Counter, parse_int(request.form.get("counter")) or 0)
    if desk is None:
        abort(400)
    return desk


def _snapshot(entry: QueueEntry) -> dict:
    """For the audit log: ticket and state, never the name."""
    return {"ticket": entry.ticket, "status": entry.status, "counter_id": entry.counter_id}


@bp.post("/queue/call")
@role_required("staff")
def queue_call():
    desk = _desk_or_400()
    now = clock.now()
    try:
        entry = queue.call_next(g.tenant, desk, now, serving=parse_int(request.form.get("serving")))
    except queue.QueueError as err:
        db.session.rollback()
        flash(describe(err), "error")
        return redirect(url_for("backoffice.queue_workstation", counter=desk.id), code=303)
    if entry is None:
        commit()
        flash(_("Niemand wartet auf diesen Schalter."), "info")
    else:
        audit("queue.call", "queue_entry", entry.id, after=_snapshot(entry))
        commit()
        flash(_("Aufgerufen: %(ticket)s", ticket=entry.ticket), "success")
    return redirect(url_for("backoffice.queue_workstation", counter=desk.id), code=303)


@bp.post("/queue/entries/<int:entry_id>/<action>")
@role_required("staff")
def queue_action(entry_id: int, action: str):
    desk = _desk_or_400()
    entry = _entry(entry_id)
    now = clock.now()
    before = _snapshot(entry)
    try:
        if action == "recall":
            queue.recall(entry, now)
        elif action == "finish":
            queue.finish(entry, now)
        elif action == "missed":
            queue.mark_missed(entry, now)
        elif action == "park":
            queue.park(entry)
        elif action == "resume":
            queue.resume(entry)
        elif action == "pass":
            target = request.form.get("target", "")
            kind, _sep, target_id = target.partition(":")
            if kind == "counter":
                queue.pass_on(g.tenant, entry, counter=db.session.get(Counter, parse_int(target_id) or 0) or desk,
                              now=now)
            elif kind == "office":
                office = db.session.get(Office, parse_int(target_id) or 0)
                if office is None:
                    raise queue.QueueError("no_target")
                queue.pass_on(g.tenant, entry, office=office, now=now)
            else:
                raise queue.QueueError("no_target")
        else:
            abort(404)
    except queue.QueueError as err:
        db.session.rollback()
        flash(describe(err), "error")
        return redirect(url_for("backoffice.queue_workstation", counter=desk.id), code=303)
    done = {"recall": _("%(ticket)s erneut aufgerufen.", ticket=entry.ticket),
            "finish": _("%(ticket)s abgeschlossen.", ticket=entry.ticket),
            "missed": _("%(ticket)s als nicht erschienen vermerkt.", ticket=entry.ticket),
            "park": _("%(ticket)s zurückgestellt.", ticket=entry.ticket),
            "resume": _("%(ticket)s wartet wieder.", ticket=entry.ticket),
            "pass": _("%(ticket)s weitergeleitet.", ticket=entry.ticket)}
    return audited_redirect(url_for("backoffice.queue_workstation", counter=desk.id), f"queue.{action}",
                            "queue_entry", entry.id, done[action], before=before, after=_snapshot(entry),
                            category="success", code=303)


# --- the front desk -------------------------------------------------------------------------
@bp.route("/queue/desk", methods=["GET", "POST"])
@role_required("staff")
def queue_front_desk():
    all_offices = _queue_offices()
    if not all_offices:
        return render_template("backoffice/queue_off.html")
    office = next((o for o in all_offices if o.slug == (request.values.get("office") or "")), all_offices[0])
    now = clock.now()
    issued = None
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "check-in":
                issued = queue.check_in_by_code(g.tenant, office, request.form.get("code", ""), now)
            else:
                service = queue.walk_in_service(office, service_id=parse_int(request.form.get("service")) or 0)
                issued = queue.draw_ticket(g.tenant, office, service, now, name=request.form.get("name", ""),
                                           emergency=request.form.get("emergency") == "1")
        except queue.QueueError as err:
            db.session.rollback()
            flash(describe(err, to_local=local), "error")
            status = 422
        else:
            audit("queue.arrive", "queue_entry", issued.id, after=_snapshot(issued))
            commit()
            return redirect(url_for("backoffice.queue_ticket", entry_id=issued.id), code=303)
    return render_template("backoffice/queue_desk.html", office=office, offices=all_offices,
                           offers=queue.walk_in_offers(office, queue.local_day(g.tenant, now))), status


@bp.route("/queue/tickets/<int:entry_id>")
@role_required("staff")
def queue_ticket(entry_id: int):
    entry = _entry(entry_id)
    return render_template("backoffice/queue_ticket.html", entry=entry, office=db.session.get(Office, entry.office_id),
                           local=local, kinds=KIND_LABELS)


# --- the admin's set-up ---------------------------------------------------------------------
@bp.route("/queue/setup", methods=["GET", "POST"])
@role_required("admin")
def queue_setup():
    all_offices = active_offices()
    if not all_offices:
        abort(404)
    office = next((o for o in all_offices if o.slug == (request.values.get("office") or "")), all_offices[0])
    services = queue.office_services(office)
    setup = queue.setup_of(office)
    if request.method == "POST":
        if request.form.get("action") == "new-kiosk-link":
            kiosk_links.revoke(setup)
            return audited_redirect(
                url_for("backoffice.queue_setup", office=office.slug), "queue.kiosk_link", "office", office.id,
                _("Neuer Kiosk-Link erstellt; alle bisherigen Links dieses Büros gelten nicht mehr."),
                after={"kiosk_version": setup.kiosk_version}, category="success", code=303)
        quotas = {}
        for s in services:
            raw = (request.form.get(f"quota-{s.id}") or "").strip()
            quotas[s.id] = None if raw == "" else parse_int(raw, -1)
        before = {"enabled": setup.enabled, "quotas": queue.quotas_of(office)}
        try:
            queue.configure(office, enabled=request.form.get("enabled") == "1", quotas=quotas,
                            ticket_prefix=request.form.get("prefix"))
        except queue.QueueError as err:
            db.session.rollback()
            flash(describe(err), "error")
            return redirect(url_for("backoffice.queue_setup", office=office.slug), code=303)
        return audited_redirect(url_for("backoffice.queue_setup", office=office.slug), "queue.setup", "office",
                                office.id, _("Gespeichert."), before=before,
                                after={"enabled": setup.enabled, "quotas": queue.quotas_of(office)},
                                category="success", code=303)
    commit()  # a new (switched-off) set-up row
    kiosk_url = tenant_url(g.tenant, "citizen.kiosk", token=kiosk_links.kiosk_token(setup))
    screen_url = tenant_url(g.tenant, "citizen.queue_screen", slug=office.slug)
    return render_template("backoffice/queue_setup.html", office=office, offices=all_offices, setup=setup,
                           services=services, quotas=queue.quotas_of(office), kiosk_url=kiosk_url,
                           screen_url=screen_url)
