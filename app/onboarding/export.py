"""Export a tenant as its tenants/<slug>/tenant.yaml, in the format `flask tenants sync`
reads (app.onboarding.files), so an export round-trips through sync_folder."""
from __future__ import annotations

from datetime import time, timedelta

import yaml
from sqlalchemy import select

from app import clock
from app.catalog.inheritance import district_catalogue
from app.catalog.models import INHERITABLE_FIELDS, Service
from app.extensions import db
from app.mail.models import MailTemplate
from app.offices.models import DAYS, Closure, Counter, Office, OpeningHours
from app.queue import operations as queue_ops
from app.queue.models import OfficeQueue
from app.scheduling.calendar import zone
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _office(tenant: Tenant, office: Office) -> dict:
    tz = zone(tenant.timezone)
    counters = list(db.session.scalars(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True))
                                       .order_by(Counter.position, Counter.id)))
    slug_of = {c.id: c.slug for c in db.session.scalars(select(Counter).where(Counter.office_id == office.id))}
    rules: dict[tuple, list[str]] = {}
    for r in db.session.scalars(select(OpeningHours).where(OpeningHours.office_id == office.id)
                                .order_by(OpeningHours.opens, OpeningHours.weekday)):
        key = (_hhmm(r.opens), _hhmm(r.closes), r.valid_from, r.valid_until, slug_of.get(r.counter_id))
        rules.setdefault(key, []).append(DAYS[r.weekday])
    hours = []
    for (opens, closes, vfrom, vuntil, counter), days in rules.items():
        rule = {"days": sorted(set(days), key=DAYS.index), "from": opens, "to": closes}
        if vfrom:
            rule["valid_from"] = vfrom.isoformat()
        if vuntil:
            rule["valid_until"] = vuntil.isoformat()
        if counter:
            rule["counter"] = counter
        hours.append(rule)
    closures = []
    for c in db.session.scalars(select(Closure).where(Closure.office_id == office.id, Closure.counter_id.is_(None))
                                .order_by(Closure.starts_at)):
        start, end = c.starts_at.astimezone(tz), c.ends_at.astimezone(tz)
        if start.time() == time(0) and end.time() == time(0) and end.date() - start.date() == timedelta(days=1):
            closures.append({"date": start.date().isoformat(), "reason": c.reason})
        else:
            closures.append({"start": start.isoformat(), "end": end.isoformat(), "reason": c.reason})
    return {
        "slug": office.slug, "name": office.name, "address": office.address,
        "entrances": [{"name": e.name, "directions": e.directions,
                       **({"directions_en": e.directions_en} if e.directions_en else {})} for e in office.entrances],
        "notices": list(office.notices or []),
        **({"notices_en": list(office.notices_en)} if office.notices_en else {}),
        "counters": [{"slug": c.slug, "name": c.name} for c in counters],
        "hours": hours, "closures": closures,
        **_queue(office),
    }


def _queue(office: Office) -> dict:
    """The office's `queue:` as sync reads it, when the office has a queue set up (on or off)."""
    setup = db.session.scalar(select(OfficeQueue).where(OfficeQueue.office_id == office.id))
    if setup is None:
        return {}
    slugs = {s.id: s.slug for s in db.session.scalars(select(Service).where(Service.office_id == office.id))}
    walk_in = {slugs[sid]: n for sid, n in sorted(queue_ops.quotas_of(office).items(), key=lambda kv: slugs.get(kv[0], ""))
               if sid in slugs}
    return {"queue": {"enabled": setup.enabled, "prefix": setup.ticket_prefix, "walk_in": walk_in}}


def _services(tenant: Tenant, offices: dict[int, Office]) -> list[dict]:
    catalogue = {s.slug for s in district_catalogue(tenant.parent_id)} if tenant.parent_id else set()
    first_office = next(iter(offices.values()), None)
    out = []
    for svc in db.session.scalars(select(Service).order_by(Service.position, Service.slug)):
        entry: dict = {"slug": svc.slug}
        if svc.inherited and svc.slug in catalogue:
            for field in INHERITABLE_FIELDS:
                if field in (svc.overridden or []):
                    entry[field] = getattr(svc, field)
        else:
            for field in INHERITABLE_FIELDS:
                entry[field] = getattr(svc, field)
            if svc.shared:
                entry["shared"] = True
        if svc.office_id is not None and (svc.office_id != getattr(first_office, "id", None)
                                          or tenant.kind == "district"):
            entry["office"] = offices[svc.office_id].slug
        if svc.counter_links:
            slugs = {c.id: c.slug for c in db.session.scalars(select(Counter))}
            entry["counters"] = sorted(slugs[link.counter_id] for link in svc.counter_links)
        if not svc.active:
            entry["hidden"] = True
        for field in ("leika_key", "documents_en", "fee_en"):
            if field in entry and not entry[field]:
                del entry[field]  # no key, no English: nothing to say (empty is the default)
        out.append(entry)
    return out


def export_tenant(tenant: Tenant) -> dict:
    """The tenant as a tenant.yaml document (only its own values; the rest is inherited)."""
    doc: dict = {
        "slug": tenant.slug, "name": tenant.name, "kind": tenant.kind,
        **({"parent": tenant.parent.slug} if tenant.parent else {}),
        "timezone": tenant.timezone, "state": tenant.state, "status": tenant.status,
        "contact": {"phone": tenant.contact_phone, "email": tenant.contact_email, "hours": tenant.contact_hours,
                    **({"hours_en": tenant.contact_hours_en} if tenant.contact_hours_en else {}),
                    "address": tenant.address},
        "domains": [h.host for h in tenant.hosts],
        "settings": dict(tenant.settings or {}), "texts": dict(tenant.texts or {}),
        "legal": dict(tenant.legal or {}),
    }
    if tenant.template:
        doc["template"] = tenant.template
    with tenant_scope(tenant.id):
        offices = {o.id: o for o in db.session.scalars(select(Office).order_by(Office.position, Office.id))}
        doc["offices"] = [_office(tenant, o) for o in offices.values()]
        doc["services"] = _services(tenant, offices)
        mail: dict = {}
        for row in db.session.scalars(select(MailTemplate).order_by(MailTemplate.event, MailTemplate.lang)):
            mail.setdefault(row.event, {})[row.lang] = {"subject": row.subject, "body": row.body}
        doc["mail"] = mail
    return doc


def export_yaml(tenant: Tenant) -> str:
    today = clock.now().astimezone(zone(tenant.timezone)).date()
    header = (f"# {tenant.name}: exported from the back office on {today.isoformat()}.\n"
              "# Import with: flask --app wsgi tenants sync <folder holding this tenant's folder>\n")
    return header + yaml.safe_dump(export_tenant(tenant), allow_unicode=True, sort_keys=False, width=100)
