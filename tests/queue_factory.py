"""Small factories for the queue tests: the demo Bürgerbüro with its queue on, and
appointments of a chosen day written directly (the booking rules are tested elsewhere)."""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import select

from app.booking.codes import new_code, new_manage_token
from app.booking.models import Appointment
from app.catalog.models import Service
from app.extensions import db
from app.offices.models import Counter, Office
from app.queue import operations as queue
from app.tenancy.models import Tenant
from app.tenancy.resolve import TenantInfo
from app.tenancy.scope import all_tenants, tenant_scope

QUOTAS = {"anmeldung": 3, "personalausweis": 5, "reisepass": 5}


@contextlib.contextmanager
def town(app, slug: str = "steinfurt"):
    """App context and tenant scope of a demo town; yields its TenantInfo."""
    with app.app_context():
        with all_tenants():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
            info = TenantInfo.of(tenant)
        with tenant_scope(info.id):
            yield info
        db.session.remove()


def office(slug: str = "buergerbuero") -> Office:
    return db.session.scalar(select(Office).where(Office.slug == slug))


def service(slug: str) -> Service:
    return db.session.scalar(select(Service).where(Service.slug == slug))


def counter(slug: str, office_slug: str = "buergerbuero") -> Counter:
    return db.session.scalar(select(Counter).join(Office, Office.id == Counter.office_id)
                             .where(Counter.slug == slug, Office.slug == office_slug))


def switch_on(quotas: dict[str, int] | None = None) -> None:
    """The Bürgerbüro's queue on with exactly these walk-in quotas (the demo file's replaced)."""
    o = office()
    wanted = {s.id: None for s in queue.office_services(o)}
    wanted.update({service(s).id: n for s, n in (quotas or QUOTAS).items()})
    queue.configure(o, enabled=True, quotas=wanted)


def switch_off() -> None:
    queue.configure(office(), enabled=False, quotas={})


def appointment(start: datetime, service_slug: str = "personalausweis", *, counter_slug: str = "schalter-1",
                source: str = "online", name: str = "Erika Mustermann") -> Appointment:
    svc = service(service_slug)
    appt = Appointment(code=new_code(), manage_token=new_manage_token(), service_id=svc.id, office_id=svc.office_id,
                       counter_id=counter(counter_slug).id, starts_at=start,
                       ends_at=start + timedelta(minutes=svc.duration_minutes), name=name,
                       email="erika@example.org", source=source)
    db.session.add(appt)
    db.session.flush()
    return appt
