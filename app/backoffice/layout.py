"""What the back-office layout shows on every page: the navigation grouped by role and the
count of open emergency requests."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.backoffice import bp
from app.booking import emergencies as emergency_requests

ROLE_LABELS = {"staff": _l("Sachbearbeitung"), "admin": _l("Verwaltung"), "district-it": _l("Kreis-IT")}

# (group label, role needed, [(endpoint, label), ...]); the layout shows a group to who may use it.
NAV_GROUPS = (
    (_l("Tagesgeschäft"), "staff", (
        ("backoffice.day", _l("Tagesansicht")),
        ("backoffice.queue_workstation", _l("Warteschlange")),
        ("backoffice.phone_booking", _l("Telefonbuchung")),
        ("backoffice.emergency_booking", _l("Notfallbuchung")),
        ("backoffice.emergencies", _l("Notfallanfragen")),
        ("backoffice.block", _l("Zeit sperren")),
        ("backoffice.refusals", _l("Abgewiesene Buchungen")),
        ("backoffice.draws", _l("Verlosungen")),
    )),
    (_l("Verwaltung"), "admin", (
        ("backoffice.services", _l("Dienstleistungen")),
        ("backoffice.offices_list", _l("Büros")),
        ("backoffice.settings", _l("Einstellungen")),
        ("backoffice.mail_templates", _l("Mailtexte")),
        ("backoffice.users", _l("Zugänge")),
        ("backoffice.audit_log", _l("Protokoll")),
        ("backoffice.webhooks_list", _l("Webhooks")),
        ("backoffice.statistics", _l("Statistik")),
        ("backoffice.contact", _l("Kontakt und Gestaltung")),
        ("backoffice.legal", _l("Pflichtseiten")),
        ("backoffice.feedback", _l("Barriere-Meldungen")),
        ("backoffice.golive", _l("Checkliste")),
    )),
    (_l("Landkreis"), "district-it", (
        ("backoffice.district_overview", _l("Alle Kommunen")),
    )),
)


def nav_groups(tenant) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The groups the signed-in user may use: (label, [(endpoint, url, label)])."""
    groups = []
    for label, role, links in NAV_GROUPS:
        if not current_user.can(role):
            continue
        if role == "district-it" and tenant.kind != "district":
            continue
        groups.append((label, [(endpoint, url_for(endpoint), text) for endpoint, text in links]))
    return groups


@bp.context_processor
def layout_context() -> dict:
    return {"bo_nav_groups": nav_groups, "bo_role_label": lambda role: ROLE_LABELS.get(role, role),
            "bo_open_emergencies": emergency_requests.open_count}
