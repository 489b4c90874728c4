"""Tenants as code: import tenant folders idempotently, and onboard new towns."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from app.booking.models import Appointment
from app.catalog.inheritance import district_catalogue, refresh_children, refresh_inherited
from app.catalog.models import INHERITABLE_FIELDS, Service
from app.extensions import db
from app.mail.models import MailTemplate
from app.offices.models import DAYS, Closure, Counter, Entrance, Office, OpeningHours
from app.onboarding.files import HOST, SLUG, read_folder
from app.queue import operations as queue_ops
from app.scheduling.calendar import zone
from app.tenancy.models import Tenant, TenantHost
from app.tenancy.scope import all_tenants, tenant_scope


class SyncError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _matched(rows: dict, entries: list[dict], key: str, kind: str, label: str, add, changes: list[str]):
    """Pair a file's entries with existing rows by `key` (taking them out of `rows`): an
    entry without a row is add()ed and reported; yields (row, entry, position, label) for
    the rest. What stays in `rows` is not in the file."""
    for pos, entry in enumerate(entries):
        row = rows.pop(entry[key], None)
        if row is None:
            add(entry, pos)
            changes.append(f"{label}: {kind} {entry[key]} added")
        else:
            yield row, entry, pos, f"{label}/{entry[key]}"


def _set(obj, field: str, value, changes: list[str], label: str) -> None:
    if getattr(obj, field) != value:
        setattr(obj, field, value)
        changes.append(f"{label}.{field} updated")


def sync_folder(root: Path) -> list[str]:
    """Validate every folder, then apply all in one transaction (the caller commits).

    Raises SyncError, having changed nothing, when any file is bad."""
    docs, errors = read_folder(root)
    if errors:
        raise SyncError(errors)
    changes: list[str] = []
    with all_tenants():
        known = {t.slug: t for t in db.session.scalars(select(Tenant))}
    for path, data in docs:
        if data.get("_parent_outside"):
            parent = known.get(data["parent"])
            if parent is None or parent.kind != "district":
                errors.append(f"{path}: parent: no district '{data['parent']}' in the files or the database")
    if errors:
        raise SyncError(errors)
    # Districts first, so towns find their catalogue.
    docs.sort(key=lambda d: 0 if d[1]["kind"] == "district" else 1)
    for path, data in docs:
        try:
            changes += _apply_tenant(data, known)
        except SyncError as exc:
            raise SyncError([f"{path}: {e}" for e in exc.errors]) from exc
    with all_tenants():
        districts = [known[d["slug"]] for _, d in docs if d["kind"] == "district"]
        for district in districts:
            changes += refresh_children(district)
        towns = [known[d["slug"]] for _, d in docs if d["kind"] == "municipality"]
        for town in towns:
            changes += refresh_inherited(town)
    # Queues last: their walk-in quotas name services the catalogue has just given the towns.
    for path, data in docs:
        with tenant_scope(known[data["slug"]].id):
            offices = {o.slug: o for o in db.session.scalars(select(Office))}
            try:
                changes += _apply_queues(data, offices)
            except SyncError as exc:
                raise SyncError([f"{path}: {e}" for e in exc.errors]) from exc
    return changes


def _apply_tenant(data: dict, known: dict[str, Tenant]) -> list[str]:
    changes: list[str] = []
    slug = data["slug"]
    with all_tenants():
        tenant = known.get(slug)
        if tenant is None:
            tenant = Tenant(slug=slug, name=data["name"], kind=data["kind"], status=data["status"])
            db.session.add(tenant)
            known[slug] = tenant
            changes.append(f"{slug}: tenant created")
        elif tenant.kind != data["kind"]:
            raise SyncError([f"kind: {slug} is a {tenant.kind} in the database; changing the kind is not supported"])
        parent = known[data["parent"]] if data.get("parent") else None
        label = slug
        _set(tenant, "name", data["name"], changes, label)
        if tenant.parent is not parent:
            tenant.parent = parent
            changes.append(f"{label}.parent updated")
        for field in ("timezone", "state", "status"):
            _set(tenant, field, data[field], changes, label)
        _set(tenant, "contact_phone", data["contact"]["phone"], changes, label)
        _set(tenant, "contact_email", data["contact"]["email"], changes, label)
        _set(tenant, "contact_hours", data["contact"]["hours"], changes, label)
        _set(tenant, "contact_hours_en", data["contact"].get("hours_en", ""), changes, label)
        _set(tenant, "address", data["contact"]["address"], changes, label)
        _set(tenant, "legal", dict(data["legal"]), changes, label)
        _set(tenant, "settings", dict(data["settings"]), changes, label)
        _set(tenant, "texts", dict(data["texts"]), changes, label)
        template = _template_json(data["template"]) if data.get("template") else {}
        _set(tenant, "template", template, changes, label)
        db.session.flush()
        hosts = {h.host for h in tenant.hosts}
        for host in data["domains"]:
            host = host.lower().rstrip(".")
            if host not in hosts:
                other = db.session.scalar(select(TenantHost).where(TenantHost.host == host))
                if other is not None:
                    raise SyncError([f"domains: {host} already belongs to another tenant"])
                tenant.hosts.append(TenantHost(host=host))
                changes.append(f"{label}: domain {host} added")
        for host in sorted(hosts - {h.lower().rstrip('.') for h in data["domains"]}):
            changes.append(f"{label}: domain {host} is not in the file; kept (remove it in the back office)")
        db.session.flush()
    with tenant_scope(tenant.id):
        offices = {}
        for pos, office_data in enumerate(data["offices"]):
            offices[office_data["slug"]] = _apply_office(tenant, office_data, pos, changes)
        changes += _apply_services(tenant, data, offices)
        changes += _apply_mail(tenant, data["mail"])
    return changes


def _apply_queues(data: dict, offices: dict[str, Office]) -> list[str]:
    """An office's `queue:` sets its queue as the file says; without one, the back
    office's set-up stays."""
    changes = []
    for office_data in data["offices"]:
        wanted = office_data.get("queue")
        if wanted is None:
            continue
        office = offices[office_data["slug"]]
        services = {s.slug: s.id for s in db.session.scalars(select(Service).where(Service.office_id == office.id))}
        unknown = sorted(set(wanted["walk_in"]) - set(services))
        if unknown:
            raise SyncError([f"offices: {office.slug}.queue.walk_in: no service {', '.join(unknown)} in this office"])
        quotas = {sid: wanted["walk_in"].get(slug) for slug, sid in services.items()}
        before = (queue_ops.queue_of(office) is not None, queue_ops.setup_of(office).ticket_prefix,
                  queue_ops.quotas_of(office))
        setup = queue_ops.configure(office, enabled=wanted["enabled"], quotas=quotas,
                                    ticket_prefix=wanted.get("prefix"))
        if before != (wanted["enabled"], setup.ticket_prefix, queue_ops.quotas_of(office)):
            changes.append(f"offices/{office.slug}: queue {'on' if wanted['enabled'] else 'off'}, walk-in quotas set")
    return changes


def _template_json(template: dict) -> dict:
    office = dict(template["office"])
    office["hours"] = [
        {"days": r["days"], "from": r["from_"].strftime("%H:%M"), "to": r["to"].strftime("%H:%M")}
        for r in office["hours"]
    ]
    return {"office": office}


def _apply_office(tenant: Tenant, data: dict, position: int, changes: list[str]) -> Office:
    label = f"{tenant.slug}/{data['slug']}"
    office = db.session.scalar(select(Office).where(Office.slug == data["slug"]))
    if office is None:
        office = Office(tenant_id=tenant.id, slug=data["slug"], name=data["name"], address=data["address"],
                        notices=data["notices"], notices_en=data["notices_en"], position=position)
        db.session.add(office)
        db.session.flush()
        changes.append(f"{label}: office created")
    for field in ("name", "address", "notices", "notices_en"):
        _set(office, field, data[field], changes, label)
    _set(office, "position", position, changes, label)
    # Entrances, matched by name.
    existing = {e.name: e for e in office.entrances}

    def add_entrance(ent: dict, pos: int) -> None:
        office.entrances.append(Entrance(tenant_id=tenant.id, name=ent["name"], directions=ent["directions"],
                                         directions_en=ent["directions_en"], position=pos))

    for entrance, ent, pos, here in _matched(existing, data["entrances"], "name", "entrance", label, add_entrance,
                                             changes):
        _set(entrance, "directions", ent["directions"], changes, here)
        _set(entrance, "directions_en", ent["directions_en"], changes, here)
        _set(entrance, "position", pos, changes, here)
    for name, entrance in existing.items():
        used = db.session.scalar(select(Appointment.id).where(Appointment.entrance_id == entrance.id).limit(1))
        if used:
            changes.append(f"{label}: entrance {name} is not in the file but appointments use it; kept")
        else:
            office.entrances.remove(entrance)
            changes.append(f"{label}: entrance {name} removed")
    # Counters, matched by slug; one left out of the file is switched off, never deleted.
    counters = {c.slug: c for c in office.counters}

    def add_counter(cdata: dict, pos: int) -> None:
        office.counters.append(Counter(tenant_id=tenant.id, slug=cdata["slug"], name=cdata["name"], position=pos))

    for counter, cdata, pos, here in _matched(counters, data["counters"], "slug", "counter", label, add_counter,
                                              changes):
        _set(counter, "name", cdata["name"], changes, here)
        _set(counter, "position", pos, changes, here)
        _set(counter, "active", True, changes, here)
    for slug, counter in counters.items():
        if counter.active:
            counter.active = False
            changes.append(f"{label}: counter {slug} is not in the file; switched off (its appointments stay)")
    db.session.flush()
    _apply_hours(office, data["hours"], changes, label)
    _apply_closures(tenant, office, data["closures"], changes, label)
    return office


def _rule_rows(office: Office, rules: list[dict]) -> set[tuple]:
    by_slug = {c.slug: c.id for c in office.counters}
    rows = set()
    for rule in rules:
        for day in rule["days"]:
            rows.add((DAYS.index(day), rule["from_"], rule["to"], rule["valid_from"], rule["valid_until"],
                      by_slug.get(rule["counter"]) if rule.get("counter") else None))
    return rows


def _apply_hours(office: Office, rules: list[dict], changes: list[str], label: str) -> None:
    wanted = _rule_rows(office, rules)
    current = {(r.weekday, r.opens, r.closes, r.valid_from, r.valid_until, r.counter_id): r
               for r in db.session.scalars(select(OpeningHours).where(OpeningHours.office_id == office.id))}
    if set(current) == wanted:
        return
    for key, row in current.items():
        if key not in wanted:
            db.session.delete(row)
    for key in wanted - set(current):
        weekday, opens, closes, vfrom, vuntil, counter_id = key
        db.session.add(OpeningHours(tenant_id=office.tenant_id, office_id=office.id, counter_id=counter_id,
                                    weekday=weekday, opens=opens, closes=closes, valid_from=vfrom,
                                    valid_until=vuntil))
    changes.append(f"{label}: opening hours updated")


def _apply_closures(tenant: Tenant, office: Office, closures: list[dict], changes: list[str], label: str) -> None:
    tz = zone(tenant.timezone)
    existing = {(c.starts_at, c.ends_at) for c in db.session.scalars(
        select(Closure).where(Closure.office_id == office.id, Closure.counter_id.is_(None)))}
    for entry in closures:
        if entry["date"]:
            start = datetime.combine(entry["date"], time(0), tzinfo=tz)
            end = datetime.combine(entry["date"] + timedelta(days=1), time(0), tzinfo=tz)
        else:
            start = entry["start"] if entry["start"].tzinfo else entry["start"].replace(tzinfo=tz)
            end = entry["end"] if entry["end"].tzinfo else entry["end"].replace(tzinfo=tz)
        start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        if (start, end) not in existing:
            db.session.add(Closure(tenant_id=tenant.id, office_id=office.id, starts_at=start, ends_at=end,
                                   reason=entry["reason"]))
            changes.append(f"{label}: closure {start.astimezone(tz):%Y-%m-%d %H:%M} added")


def _apply_services(tenant: Tenant, data: dict, offices: dict[str, Office]) -> list[str]:
    changes: list[str] = []
    catalogue = {s.slug: s for s in district_catalogue(tenant.parent_id)} if tenant.parent_id else {}
    current = {s.slug: s for s in db.session.scalars(select(Service))}
    default_office = next(iter(offices.values()), None)
    for pos, entry in enumerate(data["services"]):
        slug = entry["slug"]
        label = f"{tenant.slug}/service {slug}"
        svc = current.get(slug)
        if svc is not None and svc.admin_edited:
            changes.append(f"{label}: edited in the back office; the file's values were not applied")
            continue
        base = catalogue.get(slug)
        if base is None:
            missing = [f for f in ("name", "duration_minutes") if f not in entry]
            if missing and (svc is None or svc.inherited):
                raise SyncError([f"services[{pos}]: '{slug}' is not in the district's catalogue, so it needs "
                                 + " and ".join(missing)])
            values = {f: entry[f] for f in INHERITABLE_FIELDS if f in entry}
            values.setdefault("position", pos)
            if svc is None:
                svc = Service(tenant_id=tenant.id, slug=slug, inherited=False, overridden=[], **values)
                db.session.add(svc)
                changes.append(f"{label}: created")
            for field, value in values.items():
                _set(svc, field, value, changes, label)
            _set(svc, "shared", bool(entry.get("shared", False)), changes, label)
        else:
            if svc is None:
                svc = Service(tenant_id=tenant.id, slug=slug, inherited=True, overridden=[],
                              **{f: getattr(base, f) for f in INHERITABLE_FIELDS})
                db.session.add(svc)
                changes.append(f"{label}: inherited")
            own = sorted(f for f in INHERITABLE_FIELDS if f in entry)
            _set(svc, "inherited", True, changes, label)
            _set(svc, "overridden", own, changes, label)
            for field in INHERITABLE_FIELDS:
                _set(svc, field, entry[field] if field in entry else getattr(base, field), changes, label)
        office = offices.get(entry["office"]) if entry.get("office") else (
            svc.office if svc.office_id else (default_office if tenant.kind == "municipality" else None))
        _set(svc, "office_id", office.id if office else None, changes, label)
        _set(svc, "active", not entry.get("hidden", False), changes, label)
        db.session.flush()
        if "counters" in entry:
            _apply_service_counters(svc, entry["counters"], office, changes, label)
    # An inherited service the file no longer mentions follows the district again.
    listed = {entry["slug"] for entry in data["services"]}
    for slug, svc in current.items():
        if svc.inherited and slug not in listed and not svc.admin_edited:
            label = f"{tenant.slug}/service {slug}"
            _set(svc, "overridden", [], changes, label)
            _set(svc, "active", True, changes, label)
    return changes


def _apply_service_counters(svc: Service, slugs: list[str], office: Office | None, changes, label) -> None:
    if office is None:
        raise SyncError([f"services: {svc.slug}: counters need an office"])
    by_slug = {c.slug: c for c in office.counters}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise SyncError([f"services: {svc.slug}.counters: no counter {', '.join(unknown)} in office {office.slug}"])
    if svc.set_counters({by_slug[s].id for s in slugs}):
        changes.append(f"{label}: counters updated")


def _apply_mail(tenant: Tenant, mail: dict) -> list[str]:
    changes = []
    current = {(t.event, t.lang): t for t in db.session.scalars(select(MailTemplate))}
    for event, langs in mail.items():
        for lang, text in langs.items():
            row = current.get((event, lang))
            label = f"{tenant.slug}/mail {event}.{lang}"
            if row is None:
                db.session.add(MailTemplate(tenant_id=tenant.id, event=event, lang=lang, subject=text["subject"],
                                            body=text["body"]))
                changes.append(f"{label}: added")
            elif row.admin_edited:
                changes.append(f"{label}: edited in the back office; the file's text was not applied")
            else:
                _set(row, "subject", text["subject"], changes, label)
                _set(row, "body", text["body"], changes, label)
    return changes


def create_town(slug: str, name: str, parent_slug: str, domain: str | None = None, status: str = "draft", *,
                address: str = "", phone: str = "", email: str = "", hours: str = "",
                office_hours: list[dict] | None = None) -> Tenant:
    """Onboard a municipality from its district's template: office, counters and hours,
    inheriting the catalogue, texts and settings. It starts as a draft with only the contact
    data it is given (never the district's). The caller commits."""
    problems = []
    try:
        SLUG(slug)
    except Exception:
        problems.append(f"slug: '{slug}' must be lower-case letters, digits and hyphens")
    if not name.strip():
        problems.append("name: must not be empty")
    if len(address) > 300:
        problems.append("address: must be at most 300 characters")
    if len(phone) > 64:
        problems.append("phone: must be at most 64 characters")
    if email.strip() and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email.strip()):
        problems.append(f"email: '{email.strip()}' is not an e-mail address")
    with all_tenants():
        if db.session.scalar(select(Tenant).where(Tenant.slug == slug)):
            problems.append(f"slug: a tenant '{slug}' exists already")
        parent = db.session.scalar(select(Tenant).where(Tenant.slug == parent_slug))
        if parent is None or parent.kind != "district":
            problems.append(f"parent: no district '{parent_slug}'")
        if domain:
            domain = domain.lower().rstrip(".")
            if not HOST.match(domain):
                problems.append(f"domain: '{domain}' is not a host name")
            elif db.session.scalar(select(TenantHost).where(TenantHost.host == domain)):
                problems.append(f"domain: {domain} belongs to another tenant")
        if problems:
            raise SyncError(problems)
        town = Tenant(slug=slug, name=name.strip(), kind="municipality", parent=parent, timezone=parent.timezone,
                      state=parent.state, status=status, address=address.strip(), contact_phone=phone.strip(),
                      contact_email=email.strip().lower(), contact_hours=hours.strip(), settings={}, texts={},
                      legal={}, template={})
        if domain:
            town.hosts.append(TenantHost(host=domain))
        db.session.add(town)
        db.session.flush()
    template = (parent.template or {}).get("office") or {
        "slug": "buergerbuero", "name": "Bürgerbüro", "address": "", "counters": 1, "entrance": None,
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "12:00"}],
    }
    with tenant_scope(town.id):
        office = Office(tenant_id=town.id, slug=template["slug"], name=template["name"],
                        address=address.strip() or template.get("address") or name.strip(), notices=[], position=0)
        db.session.add(office)
        db.session.flush()
        if template.get("entrance"):
            office.entrances.append(Entrance(tenant_id=town.id, name=template["entrance"]["name"],
                                             directions=template["entrance"].get("directions", ""), position=0))
        for i in range(int(template["counters"])):
            office.counters.append(Counter(tenant_id=town.id, slug=f"schalter-{i + 1}", name=f"Schalter {i + 1}",
                                           position=i))
        for rule in office_hours or template["hours"]:
            for day in rule["days"]:
                db.session.add(OpeningHours(tenant_id=town.id, office_id=office.id, weekday=DAYS.index(day),
                                            opens=time.fromisoformat(rule["from"]),
                                            closes=time.fromisoformat(rule["to"])))
        db.session.flush()
    refresh_inherited(town)
    return town
