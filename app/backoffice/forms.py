"""Back-office forms to values: what the admin typed, checked field by field. Raises
Invalid with a message per field; the rules that apply the values live in their domains."""
from __future__ import annotations

from app.backoffice.access import parse_int
from app.backoffice.common import parse_day, parse_time
from app.offices.models import DAYS
from app.tenancy.settings import DEFAULT_SETTINGS, SETTING_RULES, TEXT_KEYS, draw_service_slugs, validate_settings
from app.validators import Invalid

FIELD_LABELS = {"name": "Name", "description": "Beschreibung", "duration_minutes": "Dauer (Minuten)",
                "documents": "Mitzubringende Unterlagen", "fee": "Gebühr", "bookable_online": "Online buchbar",
                "persons_max": "Personen höchstens", "name_en": "Name (englisch)",
                "description_en": "Beschreibung (englisch)", "position": "Reihenfolge",
                "additional_person_minutes": "Minuten je weitere Person",
                "combinable": "Mit anderen Anliegen in einem Termin buchbar",
                "documents_en": "Mitzubringende Unterlagen (englisch)", "fee_en": "Gebühr (englisch)"}


def parse_service_form(form) -> dict:
    """Form fields to values; raises Invalid with a message per field."""
    errors: dict[str, str] = {}
    values: dict = {}
    name = (form.get("name") or "").strip()
    if not 1 <= len(name) <= 200:
        errors[FIELD_LABELS["name"]] = "muss 1 bis 200 Zeichen lang sein"
    values["name"] = name
    for key, limit in (("description", 2000), ("description_en", 2000), ("name_en", 200), ("fee", 200)):
        value = (form.get(key) or "").strip()
        if len(value) > limit:
            errors[FIELD_LABELS[key]] = f"darf höchstens {limit} Zeichen lang sein"
        values[key] = value
    for key, low, high in (("duration_minutes", 5, 480), ("persons_max", 1, 10)):
        try:
            number = int(form.get(key, ""))
        except ValueError:
            errors[FIELD_LABELS[key]] = "muss eine ganze Zahl sein"
            continue
        if not low <= number <= high:
            errors[FIELD_LABELS[key]] = f"muss zwischen {low} und {high} liegen"
        values[key] = number
    for key in ("documents", "documents_en"):
        if key == "documents_en" and key not in form:
            continue  # a form without the English fields leaves them as they are
        docs = [line.strip() for line in (form.get(key) or "").splitlines() if line.strip()]
        if any(len(d) > 500 for d in docs):
            errors[FIELD_LABELS[key]] = "jede Zeile darf höchstens 500 Zeichen lang sein"
        if len(docs) > 30:
            errors[FIELD_LABELS[key]] = "höchstens 30 Zeilen"
        values[key] = docs
    if "fee_en" in form:
        fee_en = (form.get("fee_en") or "").strip()
        if len(fee_en) > 200:
            errors[FIELD_LABELS["fee_en"]] = "darf höchstens 200 Zeichen lang sein"
        values["fee_en"] = fee_en
    values["bookable_online"] = form.get("bookable_online") == "1"
    # Empty: each further person takes the service's own duration.
    extra = (form.get("additional_person_minutes") or "").strip()
    if extra:
        try:
            values["additional_person_minutes"] = int(extra)
            if not 1 <= values["additional_person_minutes"] <= 480:
                errors[FIELD_LABELS["additional_person_minutes"]] = "muss zwischen 1 und 480 liegen (oder leer)"
        except ValueError:
            errors[FIELD_LABELS["additional_person_minutes"]] = "muss eine ganze Zahl sein (oder leer)"
    elif "additional_person_minutes" in form:
        values["additional_person_minutes"] = None
    if "combinable_shown" in form:
        values["combinable"] = form.get("combinable") == "1"
    if errors:
        raise Invalid(errors)
    return values


def parse_settings_form(form) -> tuple[dict, list[str]]:
    """(own values to keep, keys reset to inherited); raises Invalid."""
    values: dict = {}
    reset: list[str] = []
    errors: dict[str, str] = {}
    for key in DEFAULT_SETTINGS:
        if form.get(f"inherit_{key}") == "1":
            reset.append(key)
            continue
        raw = form.get(key)
        if raw is None:
            continue
        raw = raw.strip()
        if key in SETTING_RULES:
            kind = SETTING_RULES[key][0]
            try:
                values[key] = kind(raw.replace(",", ".")) if kind is float else int(raw)
            except ValueError:
                errors[key] = "muss eine Zahl sein"
        elif key == "fair_draw_services":
            values[key] = list(draw_service_slugs(raw) or ()) if draw_service_slugs(raw) is not None else raw
        else:
            values[key] = raw
    errors.update(validate_settings(values))
    if errors:
        raise Invalid(errors)
    return values, reset


def parse_texts_form(form) -> dict[str, str | None]:
    """Per text key: the text typed, or None where the admin chose the inherited text."""
    return {key: None if form.get(f"inherit_{key}") == "1" else form.get(key) for key in TEXT_KEYS}


def parse_hours_form(form) -> tuple[dict, dict[str, str]]:
    """A new weekly rule: (values for offices.operations.add_opening_hours, problems of
    what could not be read)."""
    errors = {}
    valid_from = parse_day(form.get("valid_from")) if form.get("valid_from") else None
    valid_until = parse_day(form.get("valid_until")) if form.get("valid_until") else None
    if (form.get("valid_from") and valid_from is None) or (form.get("valid_until") and valid_until is None):
        errors["Gültigkeit"] = "ungültiges Datum"
    values = {"days": [d for d in form.getlist("weekday") if d in DAYS], "opens": parse_time(form.get("opens")),
              "closes": parse_time(form.get("closes")), "valid_from": valid_from, "valid_until": valid_until,
              "counter_id": parse_int(form.get("counter")) if form.get("counter") else None}
    return values, errors
