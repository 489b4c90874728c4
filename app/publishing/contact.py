"""A town's contact data and branding as its admin edits them: checked here, used on the
citizen pages (header, footer, colour, logo), in mails (reply-to, sender name) and on the
legal pages."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.offices.models import Office
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope
from app.validators import Invalid, is_email

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for text: white on the brand colour in the header and buttons


class ContactInvalid(Invalid):
    """The contact form's problems per field."""


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str = "#ffffff") -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def usable_brand_colour(value: str | None) -> str | None:
    """The colour if white text on it is readable, else None (the built-in blue stays)."""
    if value and _HEX.match(value) and contrast_ratio(value) >= MIN_CONTRAST:
        return value.lower()
    return None


def update_contact(tenant: Tenant, form) -> dict:
    """Apply the contact form; returns {field: (before, after)} of what changed. A new address
    goes to the offices still carrying the template's. The caller commits."""
    errors: dict[str, str] = {}
    values = {key: (form.get(key) or "").strip() for key in
              ("name", "address", "contact_phone", "contact_email", "contact_hours", "contact_hours_en")
              if key in form or key != "contact_hours_en"}  # a form without the English field leaves it
    if not 1 <= len(values["name"]) <= 200:
        errors["Name"] = "muss 1 bis 200 Zeichen lang sein"
    if len(values["address"]) > 300:
        errors["Anschrift"] = "darf höchstens 300 Zeichen lang sein"
    if len(values["contact_phone"]) > 64:
        errors["Telefon"] = "darf höchstens 64 Zeichen lang sein"
    if values["contact_email"] and not is_email(values["contact_email"]):
        errors["E-Mail"] = "ist keine gültige E-Mail-Adresse"
    if len(values["contact_hours"]) > 200:
        errors["Erreichbarkeit"] = "darf höchstens 200 Zeichen lang sein"
    if len(values.get("contact_hours_en", "")) > 200:
        errors["Erreichbarkeit (englisch)"] = "darf höchstens 200 Zeichen lang sein"
    values["contact_email"] = values["contact_email"].lower()
    texts = dict(tenant.texts or {})
    colour = (form.get("branding_color") or "").strip()
    if colour:
        if not _HEX.match(colour):
            errors["Markenfarbe"] = "bitte als #RRGGBB angeben, z. B. #004b87"
        elif contrast_ratio(colour) < MIN_CONTRAST:
            errors["Markenfarbe"] = (f"Kontrast zu weißer Schrift nur {contrast_ratio(colour):.1f}:1 – mindestens "
                                     f"{MIN_CONTRAST:.1f}:1 nötig; bitte eine dunklere Farbe wählen")
    logo = (form.get("branding_logo_url") or "").strip()
    if logo and not (logo.startswith("/static/") or re.match(r"^data:image/(png|svg\+xml|jpeg);base64,", logo)):
        errors["Logo"] = ("bitte eine Adresse auf diesem Server (/static/…) oder ein eingebettetes Bild (data:image/…) "
                          "– Bilder von anderen Servern lädt die Seite nicht")
    footer = (form.get("footer") or "").strip()
    if len(footer) > 1000:
        errors["Fußzeile"] = "darf höchstens 1000 Zeichen lang sein"
    footer_en = (form.get("footer_en") or "").strip()
    if len(footer_en) > 1000:
        errors["Fußzeile (englisch)"] = "darf höchstens 1000 Zeichen lang sein"
    if errors:
        raise ContactInvalid(errors)
    changed = {}
    for key, value in values.items():
        if getattr(tenant, key) != value:
            changed[key] = (getattr(tenant, key), value)
            setattr(tenant, key, value)
    own_texts = [("branding_color", colour.lower()), ("branding_logo_url", logo), ("footer", footer)]
    if "footer_en" in form:
        own_texts.append(("footer_en", footer_en))
    for key, value in own_texts:
        if texts.get(key, "") != value:
            changed[key] = (texts.get(key, ""), value)
            if value:
                texts[key] = value
            else:
                texts.pop(key, None)
    tenant.texts = texts
    db.session.flush()
    if "address" in changed:
        adopt_address(tenant, template_address(tenant))
    return changed


def adopt_address(tenant: Tenant, placeholder: str) -> int:
    """Offices still carrying the template's placeholder address (or none) take the tenant's
    own address, so a booking mail never says just "Rathaus". Returns how many changed."""
    if not (tenant.address or "").strip():
        return 0
    changed = 0
    with tenant_scope(tenant.id):
        for office in db.session.scalars(select(Office)):
            if office.address.strip() in ("", placeholder.strip(), tenant.name):
                office.address = tenant.address
                changed += 1
        db.session.flush()
    return changed


def template_address(tenant: Tenant) -> str:
    parent = tenant.parent
    return ((parent.template or {}).get("office") or {}).get("address", "") if parent else ""
