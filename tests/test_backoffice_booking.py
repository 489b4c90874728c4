"""Phone and emergency bookings by clerks, and the emergency request queue."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.booking.models import Appointment, EmergencyRequest
from app.extensions import db
from tests.conftest import at, mails, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in, service_id  # noqa: F401

API = "/api/v1/appointments"



@pytest.fixture
def tuesday():
    return next_weekday(1)


def book_online(client, start, n=0):
    return client.post(API, json={"service": "personalausweis", "start": start.isoformat(),
                                  "name": f"Person {n}", "email": f"p{n}@example.org"})


def test_phone_booking_without_email_tells_the_clerk_what_to_say(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    sid = service_id(app, "personalausweis", "steinfurt")
    form = steinfurt.get(f"/admin/phone-booking?service={sid}").get_data(as_text=True)
    assert "Nächster freier Termin" in form and 'name="start"' in form
    resp = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": at(tuesday, 9).isoformat(),
                                                        "name": "Anna Anrufer", "phone": "02551 123"})
    assert resp.status_code == 302
    page = steinfurt.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Bitte sagen Sie" in page and "Buchungscode" in page and "Passbild" in page and "Zugang B" in page
    assert mails(app) == []
    with in_tenant(app, "steinfurt"):
        appt = db.session.scalar(select(Appointment))
        assert appt.source == "phone" and appt.email == "" and appt.name == "Anna Anrufer"
        assert db.session.scalar(select(AuditEntry.action)) == "phone_booking"


def test_phone_booking_with_email_sends_the_confirmation(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    sid = service_id(app, "personalausweis", "steinfurt")
    resp = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": at(tuesday, 9).isoformat(),
                                                        "name": "Anna Anrufer", "email": "anna@example.org"})
    assert resp.status_code == 302
    sent = mails(app)
    assert len(sent) == 1 and sent[0]["To"] == "anna@example.org" and "Personalausweis" in sent[0]["Subject"]


def test_phone_booking_validation_errors_are_clear_and_change_nothing(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    sid = service_id(app, "personalausweis", "steinfurt")
    no_name = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": at(tuesday, 9).isoformat()})
    assert no_name.status_code == 422 and "Namen" in no_name.get_data(as_text=True)
    off_grid = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": at(tuesday, 9, 3).isoformat(),
                                                            "name": "A"})
    assert off_grid.status_code == 422 and "nicht buchbar" in off_grid.get_data(as_text=True)
    bad_mail = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": at(tuesday, 9).isoformat(),
                                                            "name": "A", "email": "kein-at-zeichen"})
    assert bad_mail.status_code == 422 and "E-Mail-Adresse ist ungültig" in bad_mail.get_data(as_text=True)
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Appointment.id)) is None


def test_clerks_use_held_back_capacity_and_overbook_only_explicitly_with_a_reason(app, steinfurt, tuesday):
    nine = at(tuesday, 9)
    for n in range(3):
        assert book_online(steinfurt, nine, n).status_code == 201
    assert book_online(steinfurt, nine, 9).status_code == 409  # the fourth counter is held back
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    sid = service_id(app, "personalausweis", "steinfurt")
    phone = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": nine.isoformat(), "name": "Paul"})
    assert phone.status_code == 302  # held-back capacity is the clerks'
    full = steinfurt.post("/admin/phone-booking", data={"service": sid, "start": nine.isoformat(), "name": "Petra"})
    assert full.status_code == 422 and "gerade vergeben" in full.get_data(as_text=True)
    counter_id = _counter_id(app, "schalter-2")
    data = {"service": sid, "mode": "overbook", "day": tuesday.isoformat(), "time": "09:00", "counter": counter_id,
            "name": "Nora Notfall", "email": "nora@example.org"}
    no_reason = steinfurt.post("/admin/emergency-booking", data=data)
    assert no_reason.status_code == 422 and "Grund" in no_reason.get_data(as_text=True)
    ok = steinfurt.post("/admin/emergency-booking", data={**data, "reason": "Flug morgen, Ausweis gestohlen"})
    assert ok.status_code == 302
    with in_tenant(app, "steinfurt"):
        appt = db.session.scalar(select(Appointment).where(Appointment.overbooked.is_(True)))
        assert appt.source == "emergency" and appt.counter_id == counter_id
        assert appt.overbook_reason == "Flug morgen, Ausweis gestohlen"
        active = db.session.scalars(select(Appointment).where(Appointment.starts_at == nine,
                                                              Appointment.status == "booked")).all()
        assert len(active) == 5  # four counters, one overbooked
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "emergency_overbooking"))
        assert entry.actor == "clerk@steinfurt.example"
        assert entry.after["overbooked"] is True and entry.after["overbook_reason"] == "Flug morgen, Ausweis gestohlen"
    day = steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True)
    assert "überbucht" in day and "Flug morgen" in day
    assert any(m["To"] == "nora@example.org" for m in mails(app))


def test_emergency_booking_within_capacity_is_no_overbooking(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    sid = service_id(app, "personalausweis", "steinfurt")
    resp = steinfurt.post("/admin/emergency-booking", data={"service": sid, "mode": "slot",
                                                            "start": at(tuesday, 9).isoformat(), "name": "Nina"})
    assert resp.status_code == 302
    with in_tenant(app, "steinfurt"):
        appt = db.session.scalar(select(Appointment))
        assert appt.source == "emergency" and not appt.overbooked


def _counter_id(app, slug: str, tenant: str = "steinfurt") -> int:
    from app.offices.models import Counter

    with in_tenant(app, tenant):
        return db.session.scalar(select(Counter.id).where(Counter.slug == slug))


def make_request(app, tenant="steinfurt", email="hilfe@example.org") -> int:
    from app.transaction import commit

    with in_tenant(app, tenant):
        row = EmergencyRequest(name="Hanna Hilfe", email=email, phone="0171 555", lang="de",
                               reason="Reise zur kranken Mutter übermorgen", service_id=None)
        db.session.add(row)
        db.session.flush()
        rid = row.id
        commit()
        return rid


def test_emergency_queue_answered_by_reply_mail(app, steinfurt):
    rid = make_request(app)
    logged_in(app, steinfurt, "staff")
    page = steinfurt.get("/admin/emergencies").get_data(as_text=True)
    assert "Hanna Hilfe" in page and "kranken Mutter" in page
    resp = steinfurt.post(f"/admin/emergencies/{rid}/reply", data={"answer": "Kommen Sie morgen um 8 Uhr."})
    assert resp.status_code == 302
    sent = mails(app)
    assert len(sent) == 1 and sent[0]["To"] == "hilfe@example.org"
    assert "Kommen Sie morgen um 8 Uhr." in sent[0].get_body(("plain",)).get_content()
    assert "Hanna Hilfe" not in steinfurt.get("/admin/emergencies").get_data(as_text=True)
    with in_tenant(app, "steinfurt"):
        row = db.session.scalar(select(EmergencyRequest))
        assert row.status == "answered" and row.answered_at is not None
        assert db.session.scalar(select(AuditEntry.action)) == "emergency_request_answered"


def test_emergency_queue_answered_by_booking(app, steinfurt, tuesday):
    rid = make_request(app)
    logged_in(app, steinfurt, "staff")
    sid = service_id(app, "reisepass", "steinfurt")
    form = steinfurt.get(f"/admin/emergency-booking?request={rid}&service={sid}").get_data(as_text=True)
    assert 'value="Hanna Hilfe"' in form and 'value="hilfe@example.org"' in form
    resp = steinfurt.post("/admin/emergency-booking", data={
        "request": rid, "service": sid, "mode": "slot", "start": at(tuesday, 9).isoformat(), "name": "Hanna Hilfe",
        "email": "hilfe@example.org"})
    assert resp.status_code == 302
    with in_tenant(app, "steinfurt"):
        row = db.session.scalar(select(EmergencyRequest))
        appt = db.session.scalar(select(Appointment))
        assert row.status == "booked" and row.appointment_id == appt.id and appt.source == "emergency"


def test_another_tenants_emergency_request_is_not_found(app, steinfurt):
    rid = make_request(app, tenant="emsdetten")
    logged_in(app, steinfurt, "staff")
    assert steinfurt.post(f"/admin/emergencies/{rid}/reply", data={"answer": "x"}).status_code == 404
    assert steinfurt.post(f"/admin/emergencies/{rid}/close").status_code == 404
    assert steinfurt.get(f"/admin/emergency-booking?request={rid}").status_code == 404
    assert mails(app) == []
