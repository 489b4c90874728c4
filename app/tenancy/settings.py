"""Tenant settings: built-in defaults, overridden by the district, overridden by the town."""
from __future__ import annotations

import re
from typing import Any

from app.extensions import db
from app.i18n import Localized, pick
from app.validators import Invalid

# Built-in defaults; every key a tenant may set is listed here with its type and bounds.
DEFAULT_SETTINGS: dict[str, Any] = {
    "slot_minutes": 10,  # the grid appointments start on
    "horizon_days": 56,  # how far ahead citizens may book
    "lead_minutes": 120,  # minimum time between booking and appointment
    "cancel_deadline_hours": 24,  # citizens may move until this long before (cancel until the start)
    "held_back_share": 0.25,  # share of open counters kept for staff and emergencies
    "max_active_per_email": 2,  # active bookings one e-mail address may hold
    "max_active_per_phone": 0,  # active bookings one phone number may hold; 0 = no per-phone cap
    "max_services_per_visit": 3,  # services one appointment may combine
    "reminder_hours": 24,  # reminder this long before the moving deadline; 0 = no reminder
    "booking_mode": "instant",  # instant | confirm (confirm-by-e-mail)
    "confirm_minutes": 30,  # how long a confirm-by-e-mail hold lasts
    "retention_days": 30,  # personal data kept this long after the appointment
    "ratelimit_write_per_minute": 10,
    "ratelimit_read_per_minute": 120,
    "mail_from": "",
    "mail_from_name": "",
    "mail_reply_to": "",
    "queue_checkin_early_minutes": 30,  # kiosk check-in opens this long before the appointment
    "queue_checkin_late_minutes": 15,  # and is still accepted this long after its start
    "queue_due_tolerance_minutes": 5,  # a checked-in appointment counts as due this long before its start
    "second_factor": "district-it",  # who must use TOTP: district-it | admin (admins and district IT)
    "release_time": "",  # "HH:MM": the day entering the horizon opens at this local time (empty: midnight)
    "release_cancelled_after_minutes": 0,  # a slot a citizen cancelled goes back online after this long
    "altcha": False,  # online bookings need a solved proof-of-work challenge (CONTRACT §5.3)
    "reconfirm_days_before": 0,  # "Kommen Sie?" this many days before an online booking; 0 = off
    "reconfirm_deadline_hours": 24,  # unanswered this long before the start: released
    # Fair draw (issue 16): for these services (slugs; empty: off, first-come) requests for a
    # newly released day during its first `fair_draw_minutes` are entries drawn by lot.
    "fair_draw_services": [],
    "fair_draw_minutes": 30,
}
FLAGS = ("altcha",)

SETTING_RULES: dict[str, tuple[type, Any, Any]] = {
    "slot_minutes": (int, 5, 60),
    "horizon_days": (int, 1, 365),
    "lead_minutes": (int, 0, 60 * 24 * 14),
    "cancel_deadline_hours": (int, 0, 24 * 14),
    "held_back_share": (float, 0.0, 0.9),
    "max_active_per_email": (int, 1, 50),
    "max_active_per_phone": (int, 0, 50),
    "max_services_per_visit": (int, 1, 10),
    "reminder_hours": (int, 0, 24 * 7),
    "confirm_minutes": (int, 5, 24 * 60),
    "retention_days": (int, 1, 365),
    "ratelimit_write_per_minute": (int, 1, 10),
    "ratelimit_read_per_minute": (int, 1, 120),
    "queue_checkin_early_minutes": (int, 0, 240),
    "queue_checkin_late_minutes": (int, 0, 240),
    "queue_due_tolerance_minutes": (int, 0, 120),
    "release_cancelled_after_minutes": (int, 0, 7 * 24 * 60),
    "reconfirm_days_before": (int, 0, 14),
    "reconfirm_deadline_hours": (int, 1, 13 * 24),
    "fair_draw_minutes": (int, 5, 240),
}
# The citizen has at least this long to answer a "Kommen Sie?" mail.
RECONFIRM_MIN_ANSWER_HOURS = 12
CHOICES = {"booking_mode": ("instant", "confirm"), "second_factor": ("district-it", "admin")}

# Texts a tenant may set, with their labels in the back office.
TEXT_KEYS = {"privacy": "Datenschutzhinweis", "privacy_en": "Datenschutzhinweis (Englisch)",
             "emergency": "Hinweis für Notfälle", "emergency_en": "Hinweis für Notfälle (Englisch)",
             "branding_color": "Markenfarbe", "branding_logo_url": "Logo-Adresse",
             "footer": "Fußzeile", "footer_en": "Fußzeile (Englisch)"}
# A text `KEY_en` is the English of `KEY`; where a town (or its district) has none, the German one is shown.
TRANSLATED_TEXTS = ("privacy", "emergency", "footer")
MAX_TEXT_CHARS = 5000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def validate_settings(values: dict) -> dict[str, str]:
    """Problems per key, empty when every value is acceptable."""
    problems: dict[str, str] = {}
    for key, value in values.items():
        if key not in DEFAULT_SETTINGS:
            problems[key] = "unknown setting"
        elif key in FLAGS:
            if not isinstance(value, bool):
                problems[key] = "must be true or false"
        elif key == "release_time":
            if not isinstance(value, str) or (value and not _is_clock_time(value)):
                problems[key] = "must be a time of day as HH:MM (e.g. 07:30), or empty"
        elif key == "fair_draw_services":
            if draw_service_slugs(value) is None:
                problems[key] = ("must be a list of service slugs (e.g. [reisepass]) or slugs separated by "
                                 "commas; empty: no fair draw")
        elif key in CHOICES:
            if value not in CHOICES[key]:
                problems[key] = f"must be one of {', '.join(CHOICES[key])}"
        elif key in SETTING_RULES:
            kind, low, high = SETTING_RULES[key]
            ok_type = isinstance(value, (int, float)) if kind is float else isinstance(value, int)
            if isinstance(value, bool) or not ok_type:
                problems[key] = f"must be a {'number' if kind is float else 'whole number'}"
            elif not low <= value <= high:
                problems[key] = f"must be between {low} and {high}"
        elif not isinstance(value, str):
            problems[key] = "must be text"
    days, hours = values.get("reconfirm_days_before"), values.get("reconfirm_deadline_hours")
    if (isinstance(days, int) and isinstance(hours, int) and days and not problems.get("reconfirm_days_before")
            and not problems.get("reconfirm_deadline_hours") and days * 24 - hours < RECONFIRM_MIN_ANSWER_HOURS):
        problems["reconfirm_deadline_hours"] = (f"must leave at least {RECONFIRM_MIN_ANSWER_HOURS} hours to answer: "
                                                "fewer hours than reconfirm_days_before × 24 − 12")
    if "slot_minutes" in values and not problems.get("slot_minutes") and 60 % values["slot_minutes"]:
        problems["slot_minutes"] = "must divide an hour (5, 10, 15, 20, 30 or 60)"
    return problems


def draw_service_slugs(value) -> tuple[str, ...] | None:
    """The slugs of `fair_draw_services` (a list, or one text with commas or spaces), None when
    that is no such value."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and _SLUG.match(v) for v in value):
        return None
    return tuple(dict.fromkeys(value))


def _is_clock_time(value: str) -> bool:
    hh, sep, mm = value.partition(":")
    return (bool(sep) and len(hh) == 2 and len(mm) == 2 and hh.isdigit() and mm.isdigit()
            and int(hh) < 24 and int(mm) < 60)


def effective_settings(tenant) -> dict[str, Any]:
    """Defaults, then each ancestor's own values, then the tenant's own."""
    return _inherited(tenant, "settings", DEFAULT_SETTINGS)


def _inherited(tenant, attribute: str, defaults: dict[str, Any]) -> dict[str, Any]:
    chain = []
    t = tenant
    while t is not None:
        chain.append(getattr(t, attribute) or {})
        t = t.parent
    merged = dict(defaults)
    for own in reversed(chain):
        merged.update(own)
    return merged


def setting_origin(tenant, key: str) -> str:
    """Where a value comes from: 'own', 'district' or 'built-in'."""
    if key in (tenant.settings or {}):
        return "own"
    t = tenant.parent
    while t is not None:
        if key in (t.settings or {}):
            return "district"
        t = t.parent
    return "built-in"


def effective_texts(tenant) -> dict[str, Any]:
    """The district's texts, then the town's own. A town that writes its own German text
    without an English one drops the district's English of it (it would say something else)."""
    chain = []
    t = tenant
    while t is not None:
        chain.append(t.texts or {})
        t = t.parent
    merged: dict[str, Any] = {}
    for own in reversed(chain):
        for key in TRANSLATED_TEXTS:
            if key in own and f"{key}_en" not in own:
                merged.pop(f"{key}_en", None)
        merged.update(own)
    return merged


def text_for(texts: dict, key: str, lang: str = "de") -> Localized:
    """The effective text `key` in `lang` (its `KEY_en`), else the German one."""
    return pick(lang, texts.get(f"{key}_en"), texts.get(key))


def apply_settings(tenant, values: dict, reset: list[str], effective: dict) -> dict:
    """Keep as own only what differs from the inherited value or was already own; `reset`
    keys follow the district again. Flushes; returns the tenant's own settings."""
    own = dict(tenant.settings or {})
    for key in reset:
        own.pop(key, None)
    for key, value in values.items():
        if key in own or value != effective.get(key):
            own[key] = value
    tenant.settings = own
    db.session.flush()
    return own


def apply_texts(tenant, texts: dict[str, str | None]) -> dict:
    """Set the tenant's texts (TEXT_KEYS); None or empty follows the district again, and an
    unchanged inherited text stays inherited. Raises Invalid; flushes; returns the own texts."""
    errors = {}
    own = dict(tenant.texts or {})
    inherited = effective_texts(tenant.parent) if tenant.parent else {}
    for key, value in texts.items():
        value = (value or "").strip()
        if len(value) > MAX_TEXT_CHARS:
            errors[TEXT_KEYS[key]] = f"darf höchstens {MAX_TEXT_CHARS} Zeichen lang sein"
        if not value:
            own.pop(key, None)
        elif key in own or value != inherited.get(key):
            own[key] = value
    if errors:
        raise Invalid(errors)
    tenant.texts = own
    db.session.flush()
    return own
