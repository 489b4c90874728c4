"""Admin: tenant settings and texts (privacy notice, emergency hint, branding). The
tenant keeps only its own values; the rest follows the district and the defaults."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audit, current_tenant, role_required, save_if_changed
from app.backoffice.forms import parse_settings_form, parse_texts_form
from app.extensions import db
from app.tenancy.resolve import host_cache
from app.tenancy.settings import (CHOICES, DEFAULT_SETTINGS, TEXT_KEYS, apply_settings, apply_texts,
                                  effective_settings, effective_texts, setting_origin)
from app.transaction import commit
from app.validators import Invalid

LABELS = {"slot_minutes": "Terminraster (Minuten)", "horizon_days": "Buchungshorizont (Tage)",
          "lead_minutes": "Mindestvorlauf (Minuten)", "cancel_deadline_hours": "Absagefrist (Stunden)",
          "held_back_share": "Zurückgehaltener Anteil (0 bis 0,9)", "max_active_per_email": "Aktive Buchungen je E-Mail",
          "max_active_per_phone": "Aktive Buchungen je Telefonnummer (0 = aus)",
          "reminder_hours": "Erinnerung (Stunden vor der Verschiebefrist, 0 = keine)", "booking_mode": "Buchungsart",
          "confirm_minutes": "Bestätigungsfrist (Minuten)", "retention_days": "Löschfrist (Tage nach dem Termin)",
          "ratelimit_write_per_minute": "Buchungen je Minute und Adresse",
          "ratelimit_read_per_minute": "Abrufe je Minute und Adresse", "mail_from": "Absenderadresse",
          "mail_from_name": "Absendername", "mail_reply_to": "Antwortadresse",
          "reconfirm_days_before": "Rückfrage „Kommen Sie?“ (Tage vorher, 0 = keine)",
          "reconfirm_deadline_hours": "Freigabe ohne Antwort (Stunden vor dem Termin)",
          "fair_draw_services": "Faire Verlosung für (Kurznamen der Dienstleistungen, leer = aus)",
          "fair_draw_minutes": "Sammelzeit der Verlosung (Minuten nach der Freigabe)"}


def _render(status=200, **extra):
    tenant = current_tenant()
    return render_template("backoffice/settings.html", settings=effective_settings(tenant),
                           origins={k: setting_origin(tenant, k) for k in DEFAULT_SETTINGS}, labels=LABELS,
                           choices=CHOICES, texts=effective_texts(tenant), own_texts=tenant.texts or {},
                           text_keys=TEXT_KEYS, **extra), status


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings():
    if request.method == "GET":
        return _render()
    tenant = current_tenant()
    try:
        values, reset = parse_settings_form(request.form)
    except Invalid as exc:
        return _render(422, errors={LABELS.get(k, k): v for k, v in exc.errors.items()}, form=request.form)
    before = dict(tenant.settings or {})
    after = apply_settings(tenant, values, reset, effective_settings(tenant))
    if save_if_changed("settings_updated", "tenant", tenant.id, before, after, "Einstellungen gespeichert."):
        host_cache.clear()
    return redirect(url_for("backoffice.settings"))


@bp.route("/settings/texts", methods=["POST"])
@role_required("admin")
def texts():
    tenant = current_tenant()
    before = dict(tenant.texts or {})
    try:
        after = apply_texts(tenant, parse_texts_form(request.form))
    except Invalid as exc:
        db.session.rollback()
        return _render(422, errors=exc.errors)
    if after != before:
        audit("texts_updated", "tenant", tenant.id, before=before, after=after)
        commit()
        host_cache.clear()
    flash("Texte gespeichert.")
    return redirect(url_for("backoffice.settings"))
LABELS["second_factor"] = "Zweiter Faktor Pflicht für (district-it: nur Kreis-IT; admin: auch Administration)"
