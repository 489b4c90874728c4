"""The format of tenant folders (tenants/<slug>/tenant.yaml), validated before anything is written."""
from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from zoneinfo import available_timezones

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from app.mail.models import EVENTS
from app.mail.render import TemplateProblem, check_template
from app.legal.fields import validate_legal
from app.offices.models import DAYS
from app.tenancy.settings import validate_settings

SLUG = validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", error="must be lower-case letters, digits and hyphens")
STATES = ("BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")
HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ClockTime(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValidationError('must be a time like "08:30"')
        try:
            return time.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError('must be a time like "08:30"') from exc


class HoursRule(Strict):
    days = fields.List(fields.String(validate=validate.OneOf(DAYS)), required=True, validate=validate.Length(min=1))
    from_ = fields.Raw(data_key="from", required=True)
    to = fields.Raw(required=True)
    valid_from = fields.Date(load_default=None)
    valid_until = fields.Date(load_default=None)
    counter = fields.String(load_default=None)

    @validates_schema
    def _order(self, data, **kwargs):
        opens = ClockTime().deserialize(data["from_"], "from")
        closes = ClockTime().deserialize(data["to"], "to")
        if opens >= closes:
            raise ValidationError("must be after 'from'", "to")
        data["from_"], data["to"] = opens, closes
        if data["valid_from"] and data["valid_until"] and data["valid_from"] > data["valid_until"]:
            raise ValidationError("must not be before valid_from", "valid_until")


class ClosureEntry(Strict):
    date = fields.Date(load_default=None)
    start = fields.DateTime(load_default=None)
    end = fields.DateTime(load_default=None)
    reason = fields.String(load_default="", validate=validate.Length(max=300))

    @validates_schema
    def _span(self, data, **kwargs):
        if data["date"] is None and (data["start"] is None or data["end"] is None):
            raise ValidationError("give either 'date' or both 'start' and 'end'", "date")
        if data["start"] and data["end"] and data["start"] >= data["end"]:
            raise ValidationError("must be after 'start'", "end")


class EntranceEntry(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    directions = fields.String(load_default="", validate=validate.Length(max=2000))
    directions_en = fields.String(load_default="", validate=validate.Length(max=2000))


class CounterEntry(Strict):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class QueueSetup(Strict):
    """The office's queue (issue 13): on, and how many walk-in tickets per service and day."""
    enabled = fields.Boolean(load_default=True)
    prefix = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z]{1,3}$"))  # walk-in tickets: A-017
    walk_in = fields.Dict(keys=fields.String(validate=SLUG), values=fields.Integer(strict=True,
                          validate=validate.Range(0, 999)), load_default=dict)


class OfficeEntry(Strict):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(required=True, validate=validate.Length(min=1, max=300))
    entrances = fields.List(fields.Nested(EntranceEntry), load_default=list)
    notices = fields.List(fields.String(validate=validate.Length(min=1, max=1000)), load_default=list)
    notices_en = fields.List(fields.String(validate=validate.Length(min=1, max=1000)), load_default=list)
    counters = fields.List(fields.Nested(CounterEntry), required=True, validate=validate.Length(min=1))
    hours = fields.List(fields.Nested(HoursRule), required=True, validate=validate.Length(min=1))
    closures = fields.List(fields.Nested(ClosureEntry), load_default=list)
    queue = fields.Nested(QueueSetup, load_default=None)

    @validates_schema
    def _unique(self, data, **kwargs):
        slugs = [c["slug"] for c in data.get("counters", [])]
        if len(slugs) != len(set(slugs)):
            raise ValidationError("counter slugs must be unique within an office", "counters")
        for i, rule in enumerate(data.get("hours", [])):
            if rule.get("counter") and rule["counter"] not in slugs:
                raise ValidationError(f"hours[{i}].counter: no counter '{rule['counter']}' in this office", "hours")


class ServiceEntry(Strict):
    slug = fields.String(required=True, validate=SLUG)
    shared = fields.Boolean()
    hidden = fields.Boolean()
    office = fields.String(validate=SLUG)
    counters = fields.List(fields.String(validate=SLUG))
    name = fields.String(validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(max=200))
    description = fields.String(validate=validate.Length(max=2000))
    description_en = fields.String(validate=validate.Length(max=2000))
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(5, 480))
    documents = fields.List(fields.String(validate=validate.Length(min=1, max=500)))
    fee = fields.String(validate=validate.Length(max=200))
    documents_en = fields.List(fields.String(validate=validate.Length(min=1, max=500)))
    fee_en = fields.String(validate=validate.Length(max=200))
    bookable_online = fields.Boolean()
    persons_max = fields.Integer(strict=True, validate=validate.Range(1, 10))
    additional_person_minutes = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 480))
    combinable = fields.Boolean()
    position = fields.Integer(strict=True)
    leika_key = fields.String(validate=validate.Regexp(r"^(\d{14})?$", error="a LeiKa key has 14 digits"))


class MailText(Strict):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))

    @validates("subject")
    def _subject(self, value, **kwargs):
        _template(value)

    @validates("body")
    def _body(self, value, **kwargs):
        _template(value)


def _template(value: str) -> None:
    try:
        check_template(value)
    except TemplateProblem as exc:
        raise ValidationError(f"template {exc}") from exc


class Contact(Strict):
    phone = fields.String(load_default="", validate=validate.Length(max=64))
    email = fields.String(load_default="", validate=lambda v: v == "" or bool(validate.Email()(v)))
    hours = fields.String(load_default="", validate=validate.Length(max=200))
    hours_en = fields.String(load_default="", validate=validate.Length(max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))


class TemplateOffice(Strict):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True)
    address = fields.String(load_default="")
    entrance = fields.Nested(EntranceEntry, load_default=None)
    counters = fields.Integer(strict=True, required=True, validate=validate.Range(1, 50))
    hours = fields.List(fields.Nested(HoursRule), required=True, validate=validate.Length(min=1))


class TemplateEntry(Strict):
    office = fields.Nested(TemplateOffice, required=True)


class TenantFile(Strict):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(("district", "municipality")))
    parent = fields.String(load_default=None, validate=SLUG)
    timezone = fields.String(load_default="Europe/Berlin")
    state = fields.String(load_default="NW", validate=validate.OneOf(STATES))
    status = fields.String(load_default="pilot", validate=validate.OneOf(("draft", "pilot", "live", "disabled")))
    contact = fields.Nested(Contact, load_default=lambda: {"phone": "", "email": "", "hours": "", "address": ""})
    domains = fields.List(fields.String(), load_default=list)
    settings = fields.Dict(keys=fields.String(), load_default=dict)
    texts = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    legal = fields.Dict(keys=fields.String(), load_default=dict)
    template = fields.Nested(TemplateEntry, load_default=None)
    offices = fields.List(fields.Nested(OfficeEntry), load_default=list)
    services = fields.List(fields.Nested(ServiceEntry), load_default=list)
    mail = fields.Dict(keys=fields.String(validate=validate.OneOf(EVENTS)),
                       values=fields.Dict(keys=fields.String(validate=validate.OneOf(("de", "en"))),
                                          values=fields.Nested(MailText)), load_default=dict)

    @validates("timezone")
    def _tz(self, value, **kwargs):
        if value not in available_timezones():
            raise ValidationError("is not a known time zone (e.g. Europe/Berlin)")

    @validates("domains")
    def _domains(self, value, **kwargs):
        for host in value:
            if not HOST.match(host.lower().rstrip(".")):
                raise ValidationError(f"'{host}' is not a host name")

    @validates("legal")
    def _legal(self, value, **kwargs):
        problems = validate_legal(value)
        if problems:
            raise ValidationError([f"{k}: {v}" for k, v in problems.items()])

    @validates("settings")
    def _settings(self, value, **kwargs):
        problems = validate_settings(value)
        if problems:
            raise ValidationError([f"{k}: {v}" for k, v in problems.items()])

    @validates_schema
    def _structure(self, data, **kwargs):
        if data["kind"] == "municipality" and not data.get("parent"):
            raise ValidationError("a municipality needs its district as parent", "parent")
        if data["kind"] == "district" and data.get("parent"):
            raise ValidationError("a district has no parent", "parent")
        office_slugs = [o["slug"] for o in data.get("offices", [])]
        if len(office_slugs) != len(set(office_slugs)):
            raise ValidationError("office slugs must be unique", "offices")
        seen = set()
        for i, svc in enumerate(data.get("services", [])):
            if svc["slug"] in seen:
                raise ValidationError(f"services[{i}].slug: '{svc['slug']}' appears twice", "services")
            seen.add(svc["slug"])
            if svc.get("office") and svc["office"] not in office_slugs:
                raise ValidationError(f"services[{i}].office: no office '{svc['office']}' in this file", "services")


def _flatten(messages, prefix="") -> list[str]:
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            part = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            if key == "_schema":
                part = prefix or "(file)"
            out += _flatten(value, part)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        out += [f"{prefix}: {m}" for m in messages]
    elif isinstance(messages, list):
        for m in messages:
            out += _flatten(m, prefix)
    else:
        out.append(f"{prefix}: {messages}")
    return out


def read_folder(root: Path) -> tuple[list[tuple[Path, dict]], list[str]]:
    """Every tenant folder under `root`, parsed and validated; errors name file and field."""
    docs: list[tuple[Path, dict]] = []
    errors: list[str] = []
    if not root.is_dir():
        return [], [f"{root}: is not a folder"]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        path = folder / "tenant.yaml"
        if not path.exists():
            errors.append(f"{path}: missing (every tenant folder needs a tenant.yaml)")
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            errors.append(f"{path}: not valid YAML: {str(exc).splitlines()[0]}")
            continue
        if not isinstance(raw, dict):
            errors.append(f"{path}: must be a mapping of fields (slug, name, kind, …)")
            continue
        try:
            data = TenantFile().load(raw)
        except ValidationError as exc:
            errors += [f"{path}: {m}" for m in _flatten(exc.messages)]
            continue
        if data["slug"] != folder.name:
            errors.append(f"{path}: slug: '{data['slug']}' differs from the folder name '{folder.name}'")
            continue
        docs.append((path, data))
    slugs = {d["slug"] for _, d in docs}
    for path, data in docs:
        if data.get("parent") and data["parent"] not in slugs:
            data["_parent_outside"] = True  # checked against the database when applied
    return docs, errors
