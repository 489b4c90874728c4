"""Admin: services, with where each value comes from (district or own)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, one_or_404, parse_int, role_required
from app.backoffice.common import local
from app.backoffice.forms import FIELD_LABELS, parse_service_form
from app.catalog.inheritance import towns_reached
from app.catalog.models import Service, all_services
from app.catalog.operations import (EDITABLE, district_values, field_origins, reset_field, service_snapshot,
                                    update_service)
from app.offices.operations import counters_of
from app.scheduling.stranded import stranded_by_service
from app.transaction import commit
from app.validators import Invalid


@bp.route("/services")
@role_required("admin")
def services():
    rows = all_services()
    return render_template("backoffice/services.html", services=rows, origins={s.id: field_origins(s) for s in rows})


def _render(svc, *, status=200, **extra):
    return render_template("backoffice/service_edit.html", svc=svc, origins=field_origins(svc),
                           district=district_values(svc), labels=FIELD_LABELS, editable=EDITABLE,
                           counters=counters_of(svc.office_id) if svc.office_id else [],
                           linked={link.counter_id for link in svc.counter_links}, local=local,
                           reached=towns_reached(svc) if g.tenant.kind == "district" else [], **extra), status


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@role_required("admin")
def service_edit(service_id: int):
    svc = one_or_404(Service, service_id)
    if request.method == "GET":
        return _render(svc)
    form = request.form
    try:
        values = parse_service_form(form)
    except Invalid as exc:
        return _render(svc, status=422, errors=exc.errors, form=form)
    active = form.get("active") == "1"
    if svc.active and not active and form.get("confirm") != "1":
        stranded = stranded_by_service(svc)
        if stranded:
            return _render(svc, status=409, stranded=stranded, form=form)
    before = service_snapshot(svc)
    counter_ids = [cid for cid in (parse_int(v) for v in form.getlist("counters")) if cid is not None]
    changed = update_service(svc, values, active=active, counter_ids=counter_ids)
    if changed:
        audit("service_updated", "service", svc.id, before=before, after=service_snapshot(svc))
        commit()
        flash(f"„{svc.name}“ gespeichert.")
    else:
        flash("Keine Änderung.")
    return redirect(url_for("backoffice.service_edit", service_id=service_id))


@bp.route("/services/<int:service_id>/reset", methods=["POST"])
@role_required("admin")
def service_reset(service_id: int):
    svc = one_or_404(Service, service_id)
    field = request.form.get("field", "")
    before = service_snapshot(svc)
    try:
        reset_field(svc, field)
    except Invalid as exc:
        return _render(svc, status=422, errors=exc.errors)
    return audited_redirect(url_for("backoffice.service_edit", service_id=service_id), "service_reset_to_inherited",
                            "service", svc.id, f"{FIELD_LABELS.get(field, field)} folgt wieder dem Kreis.",
                            before=before, after=service_snapshot(svc))
