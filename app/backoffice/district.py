"""District IT on the district's host: every tenant at a glance, onboarding a town,
enabling and disabling, export as a tenants/ folder. Cross-tenant reads say so with
all_tenants(); writes enter the tenant they change."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.service import AccountError
from app.backoffice import bp
from app.backoffice.access import audit, district_required
from app.backoffice.admin_users import invite_from_form
from app.extensions import db
from app.onboarding.export import export_yaml
from app.onboarding.sync import SyncError
from app.onboarding.towns import onboard_town, template_office_hours
from app.publishing.checklist import NotReady, checklist, switch_status
from app.publishing.hours_text import HoursInvalid, format_hours, parse_hours
from app.publishing.names import STATUS_LABELS, suggest_slug
from app.statistics.overview import key_figures
from app.tenancy.models import TENANT_STATUSES, Tenant
from app.tenancy.resolve import district_and_towns, host_cache, of_district
from app.transaction import commit
from app.urls import tenant_url


def _own_town(slug: str) -> Tenant:
    tenant = of_district(g.tenant.id, slug)
    if tenant is None:
        abort(404)
    return tenant


@bp.route("/district")
@district_required
def district_overview():
    tenants = district_and_towns(g.tenant.id)
    checklists = {t.id: checklist(t) for t in tenants if t.kind == "municipality"}
    return render_template("backoffice/district.html", tenants=tenants, figures=key_figures([t.id for t in tenants]),
                           statuses=TENANT_STATUSES, tenant_url=tenant_url, checklists=checklists,
                           status_labels=STATUS_LABELS)


@bp.route("/district/onboard", methods=["GET", "POST"])
@district_required
def district_onboard():
    form = request.form
    if request.method == "GET":
        return render_template("backoffice/onboard.html", form={"hours": format_hours(template_office_hours(g.tenant.id))})
    name = (form.get("name") or "").strip()
    slug = (form.get("slug") or "").strip().lower() or suggest_slug(name)
    email = (form.get("admin_email") or "").strip().lower()
    errors = {}
    try:
        # Left empty: the district template's hours.
        office_hours = parse_hours(form["hours"]) if (form.get("hours") or "").strip() else None
    except HoursInvalid as exc:
        errors["Öffnungszeiten"] = str(exc)
        office_hours = None
    try:
        if errors:
            raise SyncError([])
        town = onboard_town(slug, name, g.tenant.slug, (form.get("domain") or "").strip() or None,
                            address=form.get("address") or "", phone=form.get("phone") or "",
                            email=form.get("email") or "", hours=form.get("contact_hours") or "",
                            office_hours=office_hours, admin_email=email, invited_by=current_user)
    except SyncError as exc:
        db.session.rollback()
        errors.update(_errors(exc.errors))
        return render_template("backoffice/onboard.html", form={**form, "slug": slug}, errors=errors), 422
    except AccountError as exc:
        db.session.rollback()
        return render_template("backoffice/onboard.html", form={**form, "slug": slug},
                               errors={"E-Mail der Administration": str(exc)}), 422
    audit("tenant_onboarded", "tenant", town.id, after={"slug": town.slug, "name": town.name, "admin": email})
    commit()
    host_cache.clear()
    flash(f"{town.name} ist als Entwurf angelegt: {tenant_url(town.slug, 'citizen.home')} – die Einladung an "
          f"{email} ist unterwegs. Bürgerinnen und Bürger können buchen, sobald die Checkliste erfüllt und die "
          "Kommune veröffentlicht ist.")
    return redirect(url_for("backoffice.district_overview"))


@bp.get("/district/onboard/slug")
@district_required
def district_slug_suggestion():
    """The slug suggested for a name (the form's script asks as one types)."""
    return {"slug": suggest_slug(request.args.get("name", ""))}


def _errors(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        field, _, message = line.partition(": ")
        out[field or "Eingabe"] = message or line
    return out


@bp.route("/district/<slug>/status", methods=["POST"])
@district_required
def district_status(slug: str):
    town = _own_town(slug)
    status = request.form.get("status", "")
    before = town.status
    try:
        switch_status(town, status)
    except ValueError:
        abort(400, description="Unbekannter Status.")
    except NotReady as exc:
        db.session.rollback()
        flash(f"{town.name} bleibt {STATUS_LABELS[before]}: " + "; ".join(exc.missing), "error")
        return redirect(url_for("backoffice.district_overview"))
    audit("tenant_status", "tenant", town.id, before={"status": before}, after={"status": status})
    commit()
    host_cache.clear()
    flash(f"{town.name}: Status {STATUS_LABELS[status]}.")
    return redirect(url_for("backoffice.district_overview"))


@bp.route("/district/<slug>/invite", methods=["POST"])
@district_required
def district_invite(slug: str):
    return invite_from_form(_own_town(slug), ("admin", "staff"), "admin", "backoffice.district_overview")


@bp.route("/district/<slug>/export")
@district_required
def district_export(slug: str):
    town = _own_town(slug)
    return Response(export_yaml(town), mimetype="application/x-yaml",
                    headers={"Content-Disposition": f'attachment; filename="{town.slug}-tenant.yaml"'})
