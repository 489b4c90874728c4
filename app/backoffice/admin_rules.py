"""Tenant-admin rules the admin pages call: validating and applying changes to services,
settings, texts and mail templates, and finding appointments a change would strand.
They flush, never commit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app import clock
from app.booking.models import ACTIVE_STATUSES, Appointment
from app.catalog.inheritance import district_catalogue, override, reset_to_inherited
from app.catalog.models import INHERITABLE_FIELDS, Service
from app.extensions import db
from app.mail.models import EVENTS, MailTemplate
from app.mail.render import TemplateProblem, check_template
from app.offices.models import Counter
from app.tenancy.models import Tenant
from app.tenancy.settings import CHOICES, DEFAULT_SETTINGS, SETTING_RULES, validate_settings

EDITABLE = ("name", "description", "duration_minutes", "documents", "fee", "bookable_online", "persons_max",
            "name_en", "description_en")
FIELD_LABELS = {"name": "Name", "description": "Beschreibung", "duration_minutes": "Dauer (Minuten)",
                "documents": "Mitzubringende Unterlagen", "fee": "Gebühr", "bookable_online": "Online buchbar",
                "persons_max": "Personen höchstens", "name_en": "Name (englisch)",
                "description_en": "Beschreibung (englisch)", "position": "Reihenfolge"}
TEXT_KEYS = {"privacy": "Datenschutzhinweis", "emergency": "Hinweis für Notfälle", "branding_color": "Markenfarbe",
             "branding_logo_url": "Logo-Adresse", "footer": "Fußzeile"}
MAIL_EVENTS = ("confirmation", "cancellation", "moved", "reminder", "waitlist_offer", "office_cancelled",
               "confirm_request")


class Invalid(ValueError):
    """Problems per field, in words for the form."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- services ------------------------------------------------------------------------------
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
    docs = [line.strip() for line in (form.get("documents") or "").splitlines() if line.strip()]
    if any(len(d) > 500 for d in docs):
        errors[FIELD_LABELS["documents"]] = "jede Zeile darf höchstens 500 Zeichen lang sein"
    if len(docs) > 30:
        errors[FIELD_LABELS["documents"]] = "höchstens 30 Zeilen"
    values["documents"] = docs
    values["bookable_online"] = form.get("bookable_online") == "1"
    if errors:
        raise Invalid(errors)
    return values


def field_origins(svc: Service) -> dict[str, str]:
    """Per field: 'district' (follows the district) or 'own'."""
    if not svc.inherited:
        return {f: "own" for f in INHERITABLE_FIELDS}
    own = set(svc.overridden or [])
    return {f: ("own" if f in own else "district") for f in INHERITABLE_FIELDS}


def district_values(svc: Service) -> dict:
    if not svc.inherited:
        return {}
    from app.catalog.inheritance import _parent_id

    base = next((s for s in district_catalogue(_parent_id(svc)) if s.slug == svc.slug), None)
    return {f: getattr(base, f) for f in INHERITABLE_FIELDS} if base else {}


def service_snapshot(svc: Service) -> dict:
    return {**{f: getattr(svc, f) for f in EDITABLE}, "active": svc.active,
            "counters": sorted(link.counter_id for link in svc.counter_links), "overridden": list(svc.overridden or [])}


def update_service(svc: Service, values: dict, *, active: bool, counter_ids: list[int]) -> list[str]:
    """Apply the form: changed fields of an inherited service become its own values;
    the service is marked edited so tenant sync leaves it alone. Returns changed fields."""
    changed = {f: v for f, v in values.items() if getattr(svc, f) != v}
    if changed:
        override(svc, **changed)
    fields = list(changed)
    if svc.active != active:
        svc.active = active
        fields.append("active")
    if svc.office_id is not None:
        valid = {c.id for c in db.session.scalars(select(Counter).where(Counter.office_id == svc.office_id))}
        if svc.set_counters({cid for cid in counter_ids if cid in valid}):
            fields.append("counters")
    if fields:
        svc.admin_edited = True
    db.session.flush()
    return fields


def reset_field(svc: Service, field: str) -> None:
    if field not in INHERITABLE_FIELDS or not svc.inherited:
        raise Invalid({field: "kann nicht zurückgesetzt werden"})
    reset_to_inherited(svc, field)
    svc.admin_edited = True
    db.session.flush()


def future_appointments(*conditions, now: datetime | None = None) -> list[Appointment]:
    now = now or clock.now()
    return list(db.session.scalars(
        select(Appointment).where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.ends_at > now, *conditions)
        .order_by(Appointment.starts_at).limit(500)
    ))


# --- settings and texts ----------------------------------------------------------------------
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
        elif key in CHOICES:
            values[key] = raw
        else:
            values[key] = raw
    problems = validate_settings(values)
    errors.update(problems)
    if errors:
        raise Invalid(errors)
    return values, reset


def apply_settings(tenant: Tenant, values: dict, reset: list[str], effective: dict) -> dict:
    """Keep as own only what differs from the inherited value or was already own."""
    own = dict(tenant.settings or {})
    for key in reset:
        own.pop(key, None)
    for key, value in values.items():
        if key in own or value != effective.get(key):
            own[key] = value
    tenant.settings = own
    db.session.flush()
    return own


def apply_texts(tenant: Tenant, form) -> dict:
    from app.tenancy.settings import effective_texts

    errors = {}
    own = dict(tenant.texts or {})
    inherited = effective_texts(tenant.parent) if tenant.parent else {}
    for key in TEXT_KEYS:
        if form.get(f"inherit_{key}") == "1":
            own.pop(key, None)
            continue
        value = (form.get(key) or "").strip()
        if len(value) > 5000:
            errors[TEXT_KEYS[key]] = "darf höchstens 5000 Zeichen lang sein"
        if not value:
            own.pop(key, None)
        elif key in own or value != inherited.get(key):
            own[key] = value  # an unchanged inherited text stays inherited
    if errors:
        raise Invalid(errors)
    tenant.texts = own
    db.session.flush()
    return own


# --- mail templates ----------------------------------------------------------------------------
def check_mail_text(subject: str, body: str) -> None:
    errors = {}
    if not 1 <= len(subject.strip()) <= 300:
        errors["Betreff"] = "muss 1 bis 300 Zeichen lang sein"
    if not body.strip():
        errors["Text"] = "darf nicht leer sein"
    for label, source in (("Betreff", subject), ("Text", body)):
        if label in errors:
            continue
        try:
            check_template(source)
        except TemplateProblem as exc:
            errors[label] = f"Vorlage {exc}"
    if errors:
        raise Invalid(errors)


def save_mail_template(event: str, lang: str, subject: str, body: str) -> MailTemplate:
    if event not in EVENTS or lang not in ("de", "en"):
        raise Invalid({"Ereignis": "unbekannt"})
    check_mail_text(subject, body)
    row = db.session.scalar(select(MailTemplate).where(MailTemplate.event == event, MailTemplate.lang == lang))
    if row is None:
        row = MailTemplate(event=event, lang=lang, subject=subject.strip(), body=body.strip())
        db.session.add(row)
    row.subject, row.body, row.admin_edited = subject.strip(), body.strip(), True
    db.session.flush()
    return row


def sample_context(tenant, lang: str) -> dict:
    """Sample data for the live preview: plain values, as a real mail gets them."""
    return {"name": "Erika Mustermann", "service": "Personalausweis beantragen", "date": "24.11.2026" if lang == "de"
            else "24 November 2026", "time": "09:30", "end_time": "09:50",
            "weekday": "Dienstag" if lang == "de" else "Tuesday", "office": "Bürgerbüro",
            "address": "Rathausplatz 1", "entrance": "Haupteingang", "directions": "Im Erdgeschoss rechts.",
            "code": "ABCD-2345", "manage_url": "https://example.org/manage/…", "booking_url": "https://example.org/",
            "tenant": tenant.name, "phone": tenant.contact_phone, "persons": 1,
            "reason": "Wegen einer Personalversammlung.", "documents": ["Personalausweis", "Passbild"],
            "notices": ["Bitte pünktlich kommen."], "fee": "37,00 €"}


# --- offices: what a change of hours or counters would strand ----------------------------------
def stranded_in_office(tenant, office_id: int, *, now: datetime | None = None) -> list[Appointment]:
    """Future active appointments of the office that the current (flushed, uncommitted)
    hours, closures and counters no longer cover."""
    from app.scheduling.slots import Policy, Schedule, _covers
    from app.scheduling.calendar import zone

    policy = Policy.of(tenant)
    tz = zone(policy.timezone)
    schedules: dict[tuple, dict] = {}
    out = []
    for appt in future_appointments(Appointment.office_id == office_id, Appointment.overbooked.is_(False), now=now):
        day = appt.starts_at.astimezone(tz).date()
        key = (appt.service_id, day)
        if key not in schedules:
            schedule = Schedule(appt.service, policy, day, day)
            schedules[key] = schedule.open_spans(day) if schedule.counter_ids else {}
        spans = schedules[key].get(appt.counter_id)
        if not spans or not _covers(spans, appt.starts_at.timestamp(), appt.ends_at.timestamp()):
            out.append(appt)
    return out
