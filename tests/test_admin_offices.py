"""Tenant admin: offices, entrances, notices, counters, opening hours with validity,
closures; a change that would strand booked appointments asks first."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.offices.models import Counter, Office, OpeningHours
from tests.conftest import at, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in  # noqa: F401



def office_id(app, tenant="steinfurt") -> int:
    with in_tenant(app, tenant):
        return db.session.scalar(select(Office.id))


def book(client, start, service="personalausweis"):
    resp = client.post("/api/v1/appointments", json={"service": service, "start": start.isoformat(),
                                                     "name": "Olga Office", "email": "olga@example.org"})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_address_notices_and_entrance_reach_the_api(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    resp = steinfurt.post(f"/admin/offices/{oid}", data={"name": "Bürgerbüro Steinfurt", "address": "Markt 1, Steinfurt",
                                                         "notices": "Bitte Maske tragen.\nKeine Hunde."})
    assert resp.status_code == 302
    assert steinfurt.post(f"/admin/offices/{oid}/entrances", data={"name": "Zugang C", "directions": "Hinten links."}
                          ).status_code == 302
    office = steinfurt.get("/api/v1/tenant").json["offices"][0]
    assert office["address"] == "Markt 1, Steinfurt" and office["notices"] == ["Bitte Maske tragen.", "Keine Hunde."]
    assert {"name": "Zugang C", "directions": "Hinten links."} in office["entrances"]
    bad = steinfurt.post(f"/admin/offices/{oid}", data={"name": "", "address": ""})
    assert bad.status_code == 422 and "Adresse: muss 1 bis 300 Zeichen lang sein" in bad.get_data(as_text=True)


def test_removing_hours_that_hold_bookings_lists_them_and_asks_first(app, steinfurt):
    thursday = next_weekday(3)
    booked = book(steinfurt, at(thursday, 15))
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    with in_tenant(app, "steinfurt"):
        rule = db.session.scalar(select(OpeningHours.id).where(OpeningHours.weekday == 3,
                                                               OpeningHours.opens > at(thursday, 13).time()))
    ask = steinfurt.post(f"/admin/offices/{oid}/hours", data={"action": "delete", "rule_id": rule})
    assert ask.status_code == 409 and booked["code"] in ask.get_data(as_text=True)
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(OpeningHours.id).where(OpeningHours.id == rule)) == rule  # unchanged
    done = steinfurt.post(f"/admin/offices/{oid}/hours", data={"action": "delete", "rule_id": rule, "confirm": "1"})
    assert done.status_code == 302
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(OpeningHours.id).where(OpeningHours.id == rule)) is None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "opening_hours_deleted"))
        assert entry.after["stranded"] == [booked["code"]] and entry.before["weekday"] == 3
    slots = steinfurt.get(f"/api/v1/services/personalausweis/slots?from={thursday}&to={thursday}").json["slots"]
    assert not any(s["start"] >= at(thursday, 14).isoformat() for s in slots)


def test_removing_hours_without_bookings_saves_at_once(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    with in_tenant(app, "steinfurt"):
        rule = db.session.scalar(select(OpeningHours.id).where(OpeningHours.weekday == 0,
                                                               OpeningHours.opens > at(next_weekday(0), 13).time()))
    assert steinfurt.post(f"/admin/offices/{oid}/hours", data={"action": "delete", "rule_id": rule}).status_code == 302


def test_hours_with_a_validity_range(app, steinfurt):
    saturday = next_weekday(5)
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    resp = steinfurt.post(f"/admin/offices/{oid}/hours", data={
        "weekday": ["sat"], "opens": "09:00", "closes": "12:00", "valid_from": saturday.isoformat(),
        "valid_until": saturday.isoformat()})
    assert resp.status_code == 302
    later = saturday + timedelta(days=7)
    on = steinfurt.get(f"/api/v1/services/personalausweis/slots?from={saturday}&to={saturday}").json["slots"]
    off = steinfurt.get(f"/api/v1/services/personalausweis/slots?from={later}&to={later}").json["slots"]
    assert on and on[0]["start"] == at(saturday, 9).isoformat() and off == []


def test_hours_validation(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    resp = steinfurt.post(f"/admin/offices/{oid}/hours", data={
        "opens": "12:00", "closes": "09:00", "valid_from": "2027-02-01", "valid_until": "2027-01-01"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Wochentage: mindestens einen wählen" in text and "„bis“ muss nach „von“ liegen" in text
    assert "„gültig bis“ darf nicht vor „gültig ab“ liegen" in text


def test_switching_off_a_counter_with_bookings_asks_first(app, steinfurt):
    tuesday = next_weekday(1)
    booked = book(steinfurt, at(tuesday, 9))
    logged_in(app, steinfurt, "admin")
    oid = office_id(app)
    with in_tenant(app, "steinfurt"):
        from app.booking.models import Appointment

        counter = db.session.scalar(select(Appointment.counter_id))
    ask = steinfurt.post(f"/admin/offices/{oid}/counters", data={"counter_id": counter, "name": "Schalter 1"})
    assert ask.status_code == 409 and booked["code"] in ask.get_data(as_text=True)
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Counter.active).where(Counter.id == counter)) is True
    ok = steinfurt.post(f"/admin/offices/{oid}/counters", data={"counter_id": counter, "name": "Schalter 1",
                                                                "confirm": "1"})
    assert ok.status_code == 302
    assert steinfurt.post(f"/admin/offices/{oid}/counters", data={"name": "Schalter 5"}).status_code == 302
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Counter.active).where(Counter.id == counter)) is False
        assert db.session.scalar(select(Counter.slug).where(Counter.name == "Schalter 5")) == "schalter-5"


def test_another_tenants_office_is_not_found(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    theirs = office_id(app, "emsdetten")
    assert steinfurt.get(f"/admin/offices/{theirs}").status_code == 404
    assert steinfurt.post(f"/admin/offices/{theirs}", data={"name": "x", "address": "y"}).status_code == 404
    assert steinfurt.post(f"/admin/offices/{theirs}/hours", data={"action": "delete", "rule_id": 1}).status_code == 404
