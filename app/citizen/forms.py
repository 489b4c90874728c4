"""Reading and checking the citizen forms. Each returns (values, errors): errors maps a
field to a message for the person who typed it; values keep what was typed."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from app.validators import is_email, is_phone


def _text(form, name: str, limit: int) -> str:
    return " ".join((form.get(name) or "").split())[:limit + 1]


def _name(values: dict, errors: dict) -> None:
    if not values["name"]:
        errors["name"] = _("Bitte geben Sie Ihren Namen an.")
    elif len(values["name"]) > 200:
        errors["name"] = _("Der Name darf höchstens 200 Zeichen lang sein.")


def _email(values: dict, errors: dict, *, required: bool = True) -> None:
    email = values["email"]
    if not email:
        if required:
            errors["email"] = _("Bitte geben Sie Ihre E-Mail-Adresse an – dorthin schicken wir die Bestätigung.")
    elif not is_email(email):
        errors["email"] = _("Bitte prüfen Sie die E-Mail-Adresse; sie sollte aussehen wie name@beispiel.de.")


def _phone(values: dict, errors: dict) -> None:
    if values["phone"] and not is_phone(values["phone"]):
        errors["phone"] = _("Bitte geben Sie die Telefonnummer nur mit Ziffern, Leerzeichen, + und - an.")


def booking(form, service) -> tuple[dict, dict]:
    """The booking form; `service` None for a visit, whose persons are the counts of its services."""
    values = {"name": _text(form, "name", 200), "email": _text(form, "email", 254).replace(" ", ""),
              "phone": _text(form, "phone", 40), "persons": form.get("persons") or "1"}
    errors: dict[str, str] = {}
    _name(values, errors)
    _email(values, errors)
    _phone(values, errors)
    try:
        persons = int(values["persons"])
    except ValueError:
        persons = 0
    allowed = service.takes_persons(persons) if service is not None else persons == 1
    if not allowed:
        errors["persons"] = _("Bitte wählen Sie zwischen 1 und %(n)d Personen.", n=service.persons_max if service else 1)
    values["persons"] = persons if allowed else 1
    return values, errors


def emergency(form) -> tuple[dict, dict]:
    values = {"name": _text(form, "name", 200), "email": _text(form, "email", 254).replace(" ", ""),
              "phone": _text(form, "phone", 40), "reason": (form.get("reason") or "").strip()[:4001]}
    errors: dict[str, str] = {}
    _name(values, errors)
    _email(values, errors, required=False)
    _phone(values, errors)
    if not values["email"] and not values["phone"] and "email" not in errors:
        errors["phone"] = _("Bitte geben Sie eine Telefonnummer oder E-Mail-Adresse an, damit wir Sie erreichen.")
    if not values["reason"]:
        errors["reason"] = _("Bitte beschreiben Sie kurz, worum es geht und bis wann.")
    elif len(values["reason"]) > 4000:
        errors["reason"] = _("Bitte fassen Sie sich kürzer (höchstens 4000 Zeichen).")
    return values, errors


def waitlist(form) -> tuple[dict, dict]:
    """Name, e-mail and the preferences: weekdays (checkboxes 0–5), morning/afternoon, from/until."""
    values = {"name": _text(form, "name", 200), "email": _text(form, "email", 254).replace(" ", ""),
              "weekdays": "".join(d for d in form.getlist("weekdays") if d in ("0", "1", "2", "3", "4", "5")),
              "daypart": _text(form, "daypart", 10), "date_from_text": _text(form, "date_from", 10),
              "date_until_text": _text(form, "date_until", 10)}
    errors: dict[str, str] = {}
    _name(values, errors)
    _email(values, errors)
    if values["daypart"] not in ("", "morning", "afternoon"):
        values["daypart"] = ""
    for key in ("date_from", "date_until"):
        raw = values[f"{key}_text"]
        try:
            values[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            values[key] = None
            errors[key] = _("Bitte geben Sie ein Datum an, zum Beispiel 2026-12-24.")
    if values["date_from"] and values["date_until"] and values["date_until"] < values["date_from"]:
        errors["date_until"] = _("Das Ende liegt vor dem Anfang. Bitte prüfen Sie die Daten.")
    return values, errors
