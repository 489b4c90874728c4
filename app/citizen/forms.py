"""Reading and checking the citizen forms. Each returns (values, errors): errors maps a
field to a message for the person who typed it; values keep what was typed."""
from __future__ import annotations

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
    values = {"name": _text(form, "name", 200), "email": _text(form, "email", 254).replace(" ", "")}
    errors: dict[str, str] = {}
    _name(values, errors)
    _email(values, errors)
    return values, errors
