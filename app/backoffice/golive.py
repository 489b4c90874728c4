"""A town's admin gets it ready: contact data and branding, the legal pages' fields, the
go-live checklist with "Veröffentlichen", and the accessibility feedback to answer."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app import clock
from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, current_tenant, one_or_404, role_required, save_if_changed
from app.extensions import db
from app.legal.feedback import FeedbackInvalid, answer_feedback, is_overdue, open_feedback, send_answer
from app.legal.fields import (A11Y_STATUSES, FIELDS, PAGES, LegalInvalid, apply_legal, inherited_legal, origin,
                              own_values, pages_for)
from app.legal.models import AccessibilityFeedback
from app.publishing.checklist import NotReady, checklist, publish, published_already
from app.publishing.contact import ContactInvalid, contrast_ratio, update_contact
from app.publishing.names import STATUS_LABELS
from app.scheduling.calendar import today_in, zone
from app.tenancy.resolve import host_cache
from app.transaction import commit


@bp.route("/contact", methods=["GET", "POST"])
@role_required("admin")
def contact():
    tenant = current_tenant()
    if request.method == "POST":
        try:
            changed = update_contact(tenant, request.form)
        except ContactInvalid as exc:
            db.session.rollback()
            return render_template("backoffice/contact.html", tenant=tenant, form=request.form,
                                   errors=exc.errors), 422
        if save_if_changed("contact_updated", "tenant", tenant.id, {k: v[0] for k, v in changed.items()},
                           {k: v[1] for k, v in changed.items()}, "Kontaktdaten und Gestaltung gespeichert."):
            host_cache.clear()
        return redirect(url_for("backoffice.contact"))
    texts = tenant.texts or {}
    form = {"name": tenant.name, "address": tenant.address, "contact_phone": tenant.contact_phone,
            "contact_email": tenant.contact_email, "contact_hours": tenant.contact_hours,
            "contact_hours_en": tenant.contact_hours_en,
            **{k: texts.get(k, "") for k in ("branding_color", "branding_logo_url", "footer", "footer_en")}}
    ratio = contrast_ratio(form["branding_color"]) if form["branding_color"] else None
    return render_template("backoffice/contact.html", tenant=tenant, form=form, ratio=ratio)


def _legal_page(status: int = 200, **extra):
    tenant = current_tenant()
    pages = pages_for(tenant)
    fields = [f for f in FIELDS if f.page in pages]
    return render_template("backoffice/legal.html", tenant=tenant, fields=fields, pages=PAGES,
                           page_keys=pages, own=own_values(tenant), inherited=inherited_legal(tenant),
                           origin=lambda key: origin(tenant, key), statuses=A11Y_STATUSES,
                           page_url=lambda page: url_for("citizen." + page.replace("-", "_")), **extra), status


@bp.route("/legal", methods=["GET", "POST"])
@role_required("admin")
def legal():
    if request.method == "GET":
        return _legal_page()
    tenant = current_tenant()
    before = dict(tenant.legal or {})
    try:
        after = apply_legal(tenant, request.form)
    except LegalInvalid as exc:
        db.session.rollback()
        return _legal_page(422, errors=exc.errors)
    save_if_changed("legal_updated", "tenant", tenant.id, before, after, "Angaben für die Pflichtseiten gespeichert.")
    return redirect(url_for("backoffice.legal"))


@bp.get("/golive")
@role_required("admin")
def golive():
    tenant = current_tenant()
    items = checklist(tenant)
    blocking = [i for i in items if i.blocking]
    return render_template("backoffice/golive.html", tenant=tenant, items=items,
                           done=sum(1 for i in blocking if i.ok), total=len(blocking),
                           ready=all(i.ok for i in blocking), status_label=STATUS_LABELS[tenant.status],
                           public_url=url_for("citizen.home"))


@bp.post("/golive/publish")
@role_required("admin")
def golive_publish():
    tenant = current_tenant()
    live = request.form.get("live") == "1"
    if published_already(tenant, live=live):
        flash(f"{tenant.name} ist bereits veröffentlicht ({STATUS_LABELS[tenant.status]}).")
        return redirect(url_for("backoffice.golive"))
    before = tenant.status
    try:
        status = publish(tenant, live=live)
    except NotReady as exc:
        db.session.rollback()
        flash("Noch nicht möglich – es fehlt: " + "; ".join(exc.missing), "error")
        return redirect(url_for("backoffice.golive"))
    audit("tenant_published", "tenant", tenant.id, before={"status": before}, after={"status": status})
    commit()
    host_cache.clear()
    flash(f"{tenant.name} ist veröffentlicht ({STATUS_LABELS[status]}): Bürgerinnen und Bürger können jetzt "
          f"unter {url_for('citizen.home', _external=True)} buchen.")
    return redirect(url_for("backoffice.golive"))


@bp.get("/feedback")
@role_required("admin")
def feedback():
    today = today_in(zone(g.tenant.timezone), clock.now())
    rows = open_feedback()
    return render_template("backoffice/feedback.html", rows=rows, today=today,
                           overdue={r.id for r in rows if is_overdue(r, today)}, zone=zone(g.tenant.timezone))


@bp.post("/feedback/<int:item_id>/answer")
@role_required("admin")
def feedback_answer(item_id: int):
    item = one_or_404(AccessibilityFeedback, item_id)
    try:
        answer_feedback(item, request.form.get("answer", ""), current_user.email)
    except FeedbackInvalid:
        flash("Bitte eine Antwort schreiben.", "error")
        return redirect(url_for("backoffice.feedback"))
    if request.form.get("send") == "1":
        send_answer(g.tenant, item)
    return audited_redirect(url_for("backoffice.feedback"), "a11y_feedback_answered", "accessibility_feedback",
                            item.id, "Als beantwortet vermerkt.", after={"status": "answered"})
