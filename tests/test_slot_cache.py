"""Computed slots are reused only until the office's bookable time changes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from app.offices.models import Closure, Office, OpeningHours
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import at, next_weekday


def starts(client, day):
    r = client.get(f"/api/v1/services/personalausweis/slots?from={day}&to={day}")
    return {s["start"]: s["free"] for s in r.json["slots"]}


def in_steinfurt(app):
    with app.app_context(), all_tenants():
        tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
    return tenant_scope(tid)


def test_every_kind_of_change_shows_at_once(app, steinfurt):
    monday = next_weekday(0)
    nine = at(monday, 9).isoformat()
    assert starts(steinfurt, monday)[nine] == 3
    assert starts(steinfurt, monday)[nine] == 3  # now from the cache
    with app.app_context(), in_steinfurt(app):
        # A booking written past the API (a clerk's, say) is seen at once.
        office = db.session.scalar(select(Office))
        counter = office.counters[0]
        svc_id = db.session.scalar(select(Appointment.service_id).limit(1)) or _service_id()
        db.session.add(Appointment(code="CACH-E001", manage_token="cache-1", service_id=svc_id, office_id=office.id,
                                   counter_id=counter.id, starts_at=at(monday, 9), ends_at=at(monday, 9, 20),
                                   name="X", source="phone"))
        commit()
    assert starts(steinfurt, monday)[nine] == 2
    with app.app_context(), in_steinfurt(app):
        office = db.session.scalar(select(Office))
        db.session.add(Closure(office_id=office.id, starts_at=at(monday, 8), ends_at=at(monday, 10)))
        commit()
    assert nine not in starts(steinfurt, monday)
    with app.app_context(), in_steinfurt(app):
        for rule in db.session.scalars(select(OpeningHours).where(OpeningHours.weekday == 0)):
            db.session.delete(rule)
        commit()
    assert starts(steinfurt, monday) == {}


def test_reminders_and_names_do_not_invalidate(app, steinfurt):
    monday = next_weekday(0)
    r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis",
                                                     "start": at(monday, 9).isoformat(), "name": "Erika",
                                                     "email": "e@example.org"})
    assert r.status_code == 201
    with app.app_context(), in_steinfurt(app):
        before = db.session.scalar(select(Office.schedule_version))
        appt = db.session.scalar(select(Appointment))
        appt.reminder_sent_at = at(monday, 9) - timedelta(hours=20)
        appt.name = "Erika M."
        commit()
        assert db.session.scalar(select(Office.schedule_version)) == before
        appt.status = "cancelled"
        commit()
        assert db.session.scalar(select(Office.schedule_version)) == before + 1


def _service_id():
    from app.catalog.models import Service

    return db.session.scalar(select(Service.id).where(Service.slug == "personalausweis"))
