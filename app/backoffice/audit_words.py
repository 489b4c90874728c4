"""The audit log in words ("Dauer von Reisepass beantragen: 20 → 25 Minuten"), not raw JSON."""
from __future__ import annotations

from app.backoffice.admin_settings import LABELS as SETTING_LABELS
from app.backoffice.forms import FIELD_LABELS
from app.booking.staff import STATUS_LABELS as APPOINTMENT_STATUS_LABELS
from app.publishing.names import STATUS_LABELS

ACTIONS = {
    "appointment_cancelled_by_office": "Termin durch das Amt abgesagt", "appointment_status": "Terminstatus geändert",
    "closure_deleted": "Schließzeit gelöscht", "contact_updated": "Kontakt und Gestaltung geändert",
    "counter_added": "Schalter angelegt", "emergency_overbooking": "Notfall-Überbuchung",
    "emergency_request_answered": "Notfallanfrage beantwortet", "emergency_request_booked": "Notfallanfrage gebucht",
    "emergency_request_closed": "Notfallanfrage geschlossen", "entrance_deleted": "Eingang gelöscht",
    "entrance_saved": "Eingang gespeichert", "legal_updated": "Pflichtseiten geändert",
    "mail_template_reset": "Mailtext zurückgesetzt", "mail_template_saved": "Mailtext gespeichert",
    "office_updated": "Büro geändert", "password_changed": "Passwort geändert", "phone_booking": "Telefonbuchung",
    "service_reset_to_inherited": "Dienstleistung: Wert des Kreises übernommen",
    "service_updated": "Dienstleistung geändert", "settings_updated": "Einstellungen geändert",
    "tenant_onboarded": "Kommune angelegt", "tenant_published": "Kommune veröffentlicht",
    "tenant_status": "Status der Kommune geändert", "test_mail_sent": "Testmail gesendet",
    "texts_updated": "Texte geändert", "time_blocked": "Zeit gesperrt", "user_removed": "Zugang entfernt",
    "user_invited": "Zugang eingeladen", "invitation_accepted": "Einladung angenommen",
    "a11y_feedback_answered": "Barriere-Meldung beantwortet",
    "appointment_moved_by_office": "Termin durch das Amt verschoben", "confirmation_resent": "Bestätigung erneut gesendet",
    "fair_draw_held": "Faire Verlosung durchgeführt",
}
UNITS = {"duration_minutes": " Minuten"}
LABELS = {**SETTING_LABELS, **FIELD_LABELS, "active": "Wird angeboten", "status": "Status", "address": "Anschrift",
          "contact_phone": "Telefon", "contact_email": "E-Mail", "contact_hours": "Erreichbarkeit",
          "branding_color": "Markenfarbe", "branding_logo_url": "Logo", "footer": "Fußzeile",
          "seed": "Startwert", "entries": "Teilnahmen", "booked": "Termine gelost", "waitlist": "Auf die Warteliste"}
# Bookkeeping in the snapshots that says nothing to a reader.
SKIP = {"overridden", "counters"}


def _value(key: str, value) -> str:
    if value is None or value == "":
        return "leer"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if key == "status" and value in STATUS_LABELS:
        return STATUS_LABELS[value]
    if key == "status" and value in APPOINTMENT_STATUS_LABELS:
        return APPOINTMENT_STATUS_LABELS[value]
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "leer"
    text = str(value)
    return (text[:80] + "…" if len(text) > 80 else text) + UNITS.get(key, "")


def describe(entry) -> tuple[str, list[str]]:
    """(what happened, one line per changed value)."""
    before, after = entry.before or {}, entry.after or {}
    what = ACTIONS.get(entry.action, entry.action.replace("_", " "))
    subject = after.get("name") or before.get("name") if entry.object_type == "service" else None
    lines = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(dict.fromkeys([*before, *after])):
            if key in SKIP or before.get(key) == after.get(key):
                continue
            label = LABELS.get(key, key)
            if subject and key != "name":
                label = f"{label.split(' (')[0]} von {subject}"
            if key in before and key in after:
                lines.append(f"{label}: {_value(key, before[key])} → {_value(key, after[key])}")
            elif key in after:
                lines.append(f"{label}: {_value(key, after[key])}")
            else:
                lines.append(f"{label}: {_value(key, before[key])} entfernt")
    return what, lines
