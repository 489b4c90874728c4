"""What an admin does to the catalogue: edit a service (changed fields of an inherited
service become the town's own), reset a field to the district's value, and show where
each value comes from. They flush, never commit."""
from __future__ import annotations

from sqlalchemy import select

from app.catalog.inheritance import district_original, override, refresh_children, reset_to_inherited
from app.catalog.models import INHERITABLE_FIELDS, Service
from app.extensions import db
from app.offices.models import Counter
from app.tenancy.models import Tenant
from app.validators import Invalid

EDITABLE = ("name", "description", "duration_minutes", "documents", "fee", "bookable_online", "persons_max",
            "name_en", "description_en", "additional_person_minutes", "combinable", "documents_en", "fee_en")


def field_origins(svc: Service) -> dict[str, str]:
    """Per field: 'district' (follows the district) or 'own'."""
    if not svc.inherited:
        return {f: "own" for f in INHERITABLE_FIELDS}
    own = set(svc.overridden or [])
    return {f: ("own" if f in own else "district") for f in INHERITABLE_FIELDS}


def district_values(svc: Service) -> dict:
    """The district's value of every inheritable field of an inherited service."""
    if not svc.inherited:
        return {}
    base = district_original(svc)
    return {f: getattr(base, f) for f in INHERITABLE_FIELDS} if base else {}


def service_snapshot(svc: Service) -> dict:
    return {**{f: getattr(svc, f) for f in EDITABLE}, "active": svc.active,
            "counters": sorted(link.counter_id for link in svc.counter_links), "overridden": list(svc.overridden or [])}


def update_service(svc: Service, values: dict, *, active: bool, counter_ids: list[int]) -> list[str]:
    """Apply the form: changed fields of an inherited service become its own values;
    the service is marked edited so tenant sync leaves it alone; a district's change reaches
    its towns at once. Returns changed fields."""
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
    if fields:
        _towns_follow(svc)
    return fields


def reset_field(svc: Service, field: str) -> None:
    if field not in INHERITABLE_FIELDS or not svc.inherited:
        raise Invalid({field: "kann nicht zurückgesetzt werden"})
    reset_to_inherited(svc, field)
    svc.admin_edited = True
    db.session.flush()
    _towns_follow(svc)


def _towns_follow(svc: Service) -> None:
    """A district's catalogue change reaches at once every town that did not override it."""
    tenant = db.session.get(Tenant, svc.tenant_id)
    if tenant.kind == "district" and svc.shared:
        refresh_children(tenant)
