"""A town's catalogue follows its district's, except where the town set its own values."""
from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import INHERITABLE_FIELDS, Service
from app.extensions import db
from app.offices.models import Office
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope


def district_catalogue(district_id: int) -> list[Service]:
    with all_tenants():
        return list(db.session.scalars(
            select(Service).where(Service.tenant_id == district_id, Service.shared.is_(True))
            .order_by(Service.position, Service.slug)
        ))


def refresh_inherited(town: Tenant) -> list[str]:
    """Bring the town's inherited services in step with its district's catalogue.

    New catalogue entries appear in the town (at its first office), fields the town has
    not overridden take the district's value, entries the district dropped are hidden.
    Returns a line per change, for the CLI and the audit log.
    """
    if town.parent_id is None:
        return []
    catalogue = {s.slug: s for s in district_catalogue(town.parent_id)}
    changes: list[str] = []
    with tenant_scope(town.id):
        own = {s.slug: s for s in db.session.scalars(select(Service))}
        first_office = db.session.scalar(select(Office).order_by(Office.position, Office.id))
        for slug, base in catalogue.items():
            svc = own.get(slug)
            if svc is None:
                svc = Service(tenant_id=town.id, slug=slug, inherited=True, overridden=[],
                              office_id=first_office.id if first_office else None,
                              **{f: getattr(base, f) for f in INHERITABLE_FIELDS})
                db.session.add(svc)
                changes.append(f"{town.slug}: service {slug} inherited")
                continue
            if not svc.inherited:
                continue  # the town's own service of the same slug wins
            for field in INHERITABLE_FIELDS:
                if field in (svc.overridden or []):
                    continue
                value = getattr(base, field)
                if getattr(svc, field) != value:
                    setattr(svc, field, value)
                    changes.append(f"{town.slug}: service {slug}.{field} follows the district")
        for slug, svc in own.items():
            if svc.inherited and slug not in catalogue and svc.active:
                svc.active = False
                changes.append(f"{town.slug}: service {slug} hidden (left the district's catalogue)")
        db.session.flush()
    return changes


def refresh_children(district: Tenant) -> list[str]:
    changes: list[str] = []
    with all_tenants():
        towns = list(db.session.scalars(select(Tenant).where(Tenant.parent_id == district.id)))
    for town in towns:
        changes += refresh_inherited(town)
    return changes


def override(service: Service, **values) -> None:
    """Set fields of a town's service as its own values (no longer following the district)."""
    for field, value in values.items():
        if field not in INHERITABLE_FIELDS:
            raise ValueError(f"{field} cannot be overridden")
        setattr(service, field, value)
        if service.inherited and field not in (service.overridden or []):
            service.overridden = sorted([*(service.overridden or []), field])


def reset_to_inherited(service: Service, field: str) -> None:
    """Drop the town's own value of `field`; it follows the district again."""
    service.overridden = [f for f in (service.overridden or []) if f != field]
    base = district_original(service)
    if base is not None:
        setattr(service, field, getattr(base, field))


def district_original(service: Service) -> Service | None:
    """The district's service a town's inherited service follows."""
    with all_tenants():
        district_id = db.session.get(Tenant, service.tenant_id).parent_id
    return next((s for s in district_catalogue(district_id) if s.slug == service.slug), None)


def towns_reached(service: Service) -> list[tuple[str, list[str]]]:
    """For a district's shared service: every town that inherits it, with the fields it set
    itself (a change of those does not reach it) — shown before the district saves."""
    if not service.shared:
        return []
    with all_tenants():
        rows = db.session.execute(
            select(Tenant.name, Service.overridden).join(Service, Service.tenant_id == Tenant.id)
            .where(Tenant.parent_id == service.tenant_id, Service.slug == service.slug, Service.inherited.is_(True))
            .order_by(Tenant.name)).all()
    return [(name, sorted(overridden or [])) for name, overridden in rows]
