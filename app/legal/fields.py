"""The fields the legal pages are made of, where each value comes from, and whether a page
is complete.

A value resolves: the tenant's own → (for a town) its district's → the state's and the
built-in defaults. A few fields name the tenant itself (who represents it, who supervises
it, its data protection officer, its VAT id): those never pass from the district to a town,
whose built-in default is written for a town instead. Texts may hold the placeholders
{name}, {address}, {phone}, {email}, {district} and {district_address}, filled in with the tenant's own data —
so the district's texts, filled with a town's own name, address and contact, are complete.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.tenancy.models import Tenant
from app.tenancy.settings import effective_settings
from app.validators import Invalid


@dataclass(frozen=True)
class LegalField:
    key: str
    label: str
    page: str  # impressum | datenschutz | barrierefreiheit | leichte-sprache | gebaerdensprache
    required: bool = True
    own_only: bool = False  # never inherited from the district
    kind: str = "text"  # text | line | date | choice
    translatable: bool = False  # an English variant `<key>_en` may be given


FIELDS: tuple[LegalField, ...] = (
    LegalField("represented_by", "Vertreten durch", "impressum", own_only=True, kind="line", translatable=True),
    LegalField("supervisory_authority", "Aufsichtsbehörde", "impressum", own_only=True, translatable=True),
    LegalField("vat_id", "Umsatzsteuer-Identifikationsnummer", "impressum", required=False, own_only=True,
               kind="line"),
    LegalField("dpo", "Kontakt der oder des Datenschutzbeauftragten", "datenschutz", own_only=True,
               translatable=True),
    LegalField("processors", "Empfänger und Auftragsverarbeiter (z. B. E-Mail-Versand)", "datenschutz",
               translatable=True),
    LegalField("complaint_authority", "Datenschutz-Aufsichtsbehörde (Beschwerde)", "datenschutz"),
    LegalField("a11y_status", "Stand der Vereinbarkeit", "barrierefreiheit", kind="choice"),
    LegalField("a11y_gaps", "Nicht barrierefreie Inhalte, Gründe und Alternativen", "barrierefreiheit",
               translatable=True),
    LegalField("a11y_reviewed_on", "Datum der letzten Überprüfung (JJJJ-MM-TT)", "barrierefreiheit", kind="date"),
    LegalField("enforcement_body", "Durchsetzungsstelle", "barrierefreiheit"),
    LegalField("easy_language", "Text in Leichter Sprache für die Startseite", "leichte-sprache", translatable=True),
    LegalField("sign_video_url", "Video in Deutscher Gebärdensprache (Adresse)", "gebaerdensprache", kind="line"),
    LegalField("sign_video_duration", "Länge des Videos (z. B. 3:20 Minuten)", "gebaerdensprache", kind="line"),
    LegalField("sign_video_size", "Dateigröße des Videos (z. B. 24 MB)", "gebaerdensprache", kind="line"),
)
BY_KEY = {f.key: f for f in FIELDS}
KEYS = tuple(f.key for f in FIELDS) + tuple(f"{f.key}_en" for f in FIELDS if f.translatable)
A11Y_STATUSES = {"full": "vollständig barrierefrei", "partial": "teilweise barrierefrei",
                 "none": "nicht barrierefrei"}
PAGES = {"impressum": "Impressum", "datenschutz": "Datenschutzerklärung",
         "barrierefreiheit": "Erklärung zur Barrierefreiheit", "leichte-sprache": "Leichte Sprache",
         "gebaerdensprache": "Gebärdensprache"}


@dataclass(frozen=True)
class StateRules:
    name: str
    complaint_authority: str
    enforcement_body: str
    sign_language_required: bool
    feedback_months: int  # an accessibility enquiry is answered within this many months


# Only the demo tenants' state is filled in; a district elsewhere gives the two bodies in its
# file (`legal:`), and the checklist asks for them until it does.
STATES: dict[str, StateRules] = {
    "NW": StateRules(
        name="Nordrhein-Westfalen",
        complaint_authority=(
            "Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen (LDI NRW), "
            "Kavalleriestraße 2–4, 40213 Düsseldorf, Telefon 0211 38424-0, E-Mail poststelle@ldi.nrw.de"),
        enforcement_body=(
            "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen bei der "
            "Landesbeauftragten für Menschen mit Behinderung sowie für Patientinnen und Patienten in "
            "Nordrhein-Westfalen, Fürstenwall 25, 40219 Düsseldorf, "
            "E-Mail ombudsstelle-barrierefreie-it@mags.nrw.de"),
        # BITNRW § 4 with BITV 2.0 § 4: explanations in DGS and Leichte Sprache on the start page.
        sign_language_required=True,
        feedback_months=1,
    ),
}
OTHER_STATE = StateRules(name="", complaint_authority="", enforcement_body="", sign_language_required=False,
                         feedback_months=1)

# Built-in texts for a town; the district writes its own in its file.
TOWN_DEFAULTS = {
    "represented_by": "die Bürgermeisterin oder den Bürgermeister",
    "represented_by_en": "the mayor",
    "supervisory_authority": "{district} – die Landrätin oder der Landrat als untere staatliche "
                             "Verwaltungsbehörde (Kommunalaufsicht), {district_address}",
    "supervisory_authority_en": "{district} – the Landrat (chief executive) as the lower state authority "
                                "(supervision of municipalities), {district_address}",
    "dpo": "Behördliche Datenschutzbeauftragte oder behördlicher Datenschutzbeauftragter – {name}, {address}, "
           "E-Mail {email}",
    "dpo_en": "The data protection officer – {name}, {address}, e-mail {email}",
}
_PLACEHOLDER = re.compile(r"\{(name|address|phone|email|district|district_address)\}")


def state_rules(state: str) -> StateRules:
    return STATES.get(state, OTHER_STATE)


def own_values(tenant: Tenant) -> dict[str, str]:
    return {k: v for k, v in (tenant.legal or {}).items() if k in KEYS}


def origin(tenant: Tenant, key: str) -> str:
    """Where a field's value comes from: 'own', 'district', 'built-in' or '' (unset)."""
    if (tenant.legal or {}).get(key):
        return "own"
    base = key[:-3] if key.endswith("_en") else key
    field = BY_KEY.get(base)
    if tenant.parent is not None and not (field and field.own_only) and (tenant.parent.legal or {}).get(key):
        return "district"
    return "built-in" if _builtin(tenant).get(key) else ""


def _builtin(tenant: Tenant) -> dict[str, str]:
    rules = state_rules(tenant.state)
    values = {"complaint_authority": rules.complaint_authority, "enforcement_body": rules.enforcement_body}
    if tenant.kind == "municipality":
        values.update(TOWN_DEFAULTS)
    return {k: v for k, v in values.items() if v}


def effective_legal(tenant: Tenant, *, with_own: bool = True) -> dict[str, str]:
    """Every field's raw value (placeholders not yet filled in); without the tenant's own
    values with `with_own=False`."""
    merged = _builtin(tenant)
    if tenant.parent is not None:
        for key, value in (tenant.parent.legal or {}).items():
            base = key[:-3] if key.endswith("_en") else key
            if key in KEYS and value and not BY_KEY[base].own_only:
                merged[key] = value
    if with_own:
        merged.update({k: v for k, v in own_values(tenant).items() if v})
    return merged


def fill(text: str, tenant: Tenant) -> str:
    values = {"name": tenant.name, "address": tenant.address or "", "phone": tenant.contact_phone or "",
              "email": tenant.contact_email or "", "district": tenant.parent.name if tenant.parent else tenant.name,
              "district_address": (tenant.parent or tenant).address or ""}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text or "")


def legal_view(tenant: Tenant, lang: str = "de") -> dict:
    """What the pages show: every field filled in, in `lang` where an English text exists."""
    raw = effective_legal(tenant)
    out: dict = {}
    for field in FIELDS:
        value = raw.get(field.key, "")
        if lang == "en" and field.translatable and raw.get(f"{field.key}_en"):
            value = raw[f"{field.key}_en"]
        out[field.key] = fill(value, tenant)
    rules = state_rules(tenant.state)
    out["retention_days"] = effective_settings(tenant)["retention_days"]
    out["sign_language_required"] = rules.sign_language_required
    out["state_name"] = rules.name
    out["feedback_months"] = rules.feedback_months
    out["a11y_reviewed_on_date"] = _date(raw.get("a11y_reviewed_on", ""))
    return out


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def pages_for(tenant: Tenant) -> list[str]:
    pages = ["impressum", "datenschutz", "barrierefreiheit", "leichte-sprache"]
    if state_rules(tenant.state).sign_language_required:
        pages.append("gebaerdensprache")
    return pages


def missing_parts(tenant: Tenant, page: str) -> list[str]:
    """What a page still lacks, in words for the checklist; empty when it is complete."""
    raw = effective_legal(tenant)
    missing = []
    if page in ("impressum", "datenschutz"):
        if not (tenant.address or "").strip():
            missing.append("Anschrift")
        if not (tenant.contact_phone or "").strip():
            missing.append("Telefon")
        if not (tenant.contact_email or "").strip():
            missing.append("E-Mail")
    for field in FIELDS:
        if field.page != page or not field.required:
            continue
        value = (raw.get(field.key) or "").strip()
        if field.key == "a11y_gaps" and raw.get("a11y_status") == "full":
            continue
        if not value:
            missing.append(field.label)
        elif field.kind == "date" and _date(value) is None:
            missing.append(f"{field.label} (kein gültiges Datum)")
        elif field.kind == "choice" and value not in A11Y_STATUSES:
            missing.append(f"{field.label} (unbekannter Wert)")
    return missing


def validate_legal(values: dict) -> dict[str, str]:
    """Problems per field of a tenant file's or a form's `legal` values."""
    problems = {}
    for key, value in values.items():
        base = key[:-3] if key.endswith("_en") else key
        if key not in KEYS:
            problems[key] = "unknown field"
        elif not isinstance(value, str):
            problems[key] = "must be text"
        elif len(value) > 10_000:
            problems[key] = "must be at most 10000 characters"
        elif value and BY_KEY[base].kind == "date" and _date(value) is None:
            problems[key] = "must be a date like 2026-11-30"
        elif value and BY_KEY[base].kind == "choice" and value not in A11Y_STATUSES:
            problems[key] = f"must be one of {', '.join(A11Y_STATUSES)}"
    return problems


def inherited_legal(tenant: Tenant) -> dict[str, str]:
    """What the tenant would show without its own values."""
    return effective_legal(tenant, with_own=False)


def apply_legal(tenant: Tenant, form) -> dict:
    """The legal form: a value equal to the inherited one stays inherited; an emptied field or
    a ticked "zurück zum übernommenen Text" follows the district again. The caller commits."""
    inherited = inherited_legal(tenant)
    own = dict(own_values(tenant))
    for key in KEYS:
        if key not in form and f"inherit_{key}" not in form:
            continue
        if form.get(f"inherit_{key}") == "1":
            own.pop(key, None)
            continue
        value = (form.get(key) or "").replace("\r\n", "\n").strip()
        if not value:
            own.pop(key, None)
        elif key in own or value != inherited.get(key, ""):
            own[key] = value
    problems = validate_legal(own)
    if problems:
        labels = {k: BY_KEY[k[:-3] if k.endswith("_en") else k].label + (" (englisch)" if k.endswith("_en") else "")
                  for k in problems}
        german = {"must be a date like 2026-11-30": "bitte als Datum JJJJ-MM-TT",
                  "must be at most 10000 characters": "darf höchstens 10000 Zeichen lang sein"}
        raise LegalInvalid({labels[k]: german.get(v, v) for k, v in problems.items()})
    tenant.legal = own
    return own


class LegalInvalid(Invalid):
    """The legal pages' fields' problems per field."""
